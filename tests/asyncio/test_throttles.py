"""``aallow_request``: the same throttle classes, the same decisions and headers as the sync
path; adrf's async views; outages on the async path."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.management import call_command
from django.test import AsyncClient
from rest_framework.test import APIRequestFactory

from apierrors.exceptions import ServiceUnavailable
from apierrors.ratelimit import get_store
from apierrors.ratelimit.headers import RATE_LIMIT_HEADERS_ATTR
from apierrors.throttling import RateLimitThrottle, athrottle
from tests.fixtures.services import free_port
from tests.throttle_app.helpers import evalsha_calls, set_rates, use_cache
from tests.throttle_app.views import BurstThrottle, ScopedThrottle, UserThrottle

pytest_plugins = ["tests.throttle_app.fixtures"]
pytestmark = pytest.mark.django_db

factory = APIRequestFactory()


def fresh_state(alias: str) -> None:
    """Empty the store's cache and forget the refusals its process remembers."""
    caches[alias].clear()
    denied = get_store(alias).denied
    if denied is not None:
        denied.clear()


class View:
    throttle_scope = "uploads"


def anonymous(address: str) -> Any:
    request = factory.get("/", REMOTE_ADDR=address)
    request.user = AnonymousUser()
    return request


def outcome(throttle: RateLimitThrottle, request: Any, allowed: bool) -> tuple[Any, ...]:
    return (allowed, throttle.wait(), request.__dict__.get(RATE_LIMIT_HEADERS_ATTR))


def sync_outcomes(klass: type[RateLimitThrottle], address: str, count: int) -> list[Any]:
    results = []
    for _ in range(count):
        throttle, request = klass(), anonymous(address)
        # A stand-in view (the throttles read only its attributes), not an APIView.
        allowed = throttle.allow_request(request, View())  # type: ignore[arg-type]
        results.append(outcome(throttle, request, allowed))
    return results


def async_outcomes(klass: type[RateLimitThrottle], address: str, count: int) -> list[Any]:
    async def run() -> list[Any]:
        results = []
        for _ in range(count):
            throttle, request = klass(), anonymous(address)
            allowed = await throttle.aallow_request(request, View())
            results.append(outcome(throttle, request, allowed))
        return results

    return asyncio.run(run())


@pytest.mark.parametrize("klass", [UserThrottle, BurstThrottle, ScopedThrottle])
def test_async_decisions_and_headers_are_the_sync_ones(settings, store, algorithm, clock, klass):
    set_rates(settings, user="3/minute", uploads="2/minute")
    sync = sync_outcomes(klass, "10.0.0.1", 7)
    asynchronous = async_outcomes(klass, "10.0.0.2", 7)
    assert asynchronous == sync
    assert [allowed for allowed, _, _ in sync].count(False) >= 4
    assert all(headers for _, _, headers in sync)


def test_a_view_without_the_scope_is_not_throttled(settings, memory_store, clock):
    class Unscoped:
        pass

    async def run() -> bool:
        return await ScopedThrottle().aallow_request(anonymous("10.0.0.3"), Unscoped())

    assert asyncio.run(run()) is True


class CustomSync(UserThrottle):
    """Overrides ``allow_request`` only: the async path must keep its logic."""

    calls: list[str] = []

    def allow_request(self, request: Any, view: Any) -> bool:
        CustomSync.calls.append("sync")
        return super().allow_request(request, view)


def test_a_sync_override_is_kept_on_the_async_path(settings, memory_store, clock):
    set_rates(settings, user="1/minute")
    CustomSync.calls.clear()
    assert [allowed for allowed, _, _ in async_outcomes(CustomSync, "10.0.0.4", 2)] == [
        True,
        False,
    ]
    assert CustomSync.calls == ["sync", "sync"]


class DatabaseQuota(UserThrottle):
    """Overrides ``allow_request`` with sync code that reads the database."""

    vip = False

    def allow_request(self, request: Any, view: Any) -> bool:
        self.vip = get_user_model().objects.filter(username="vip").exists()
        return super().allow_request(request, view)


def test_a_sync_override_runs_where_django_runs_sync_code(settings, memory_store, clock):
    # Thread-sensitive, as Django (and adrf) run sync code from async code: the ORM is
    # used on the connection Django manages for the request's code, which sees this
    # test's transaction.
    get_user_model().objects.create(username="vip")
    set_rates(settings, user="1/minute")
    throttle = DatabaseQuota()
    allowed = async_to_sync(throttle.aallow_request)(anonymous("10.0.0.9"), View())
    assert (allowed, throttle.vip) == (True, True)


class AsyncStyle(UserThrottle):
    """adrf's way to write an async throttle: ``async def allow_request``, here on the
    package's own async check."""

    async def allow_request(self, request: Any, view: Any) -> bool:  # type: ignore[override]
        return await self.aallow_request(request, view)


def test_an_async_allow_request_awaits_the_async_check(settings, memory_store, clock):
    set_rates(settings, user="2/minute")

    async def run() -> list[Any]:
        results = []
        for _ in range(3):
            throttle, request = AsyncStyle(), anonymous("10.0.0.7")
            # As adrf's check_async_throttles calls it.
            allowed = await throttle.allow_request(request, View())
            results.append(outcome(throttle, request, allowed))
        return results

    assert [allowed for allowed, _, _ in asyncio.run(run())] == [True, True, False]


@pytest.fixture
def dead_store(settings) -> None:
    settings.APIERRORS = {
        **settings.APIERRORS,
        "THROTTLE_STORE": f"redis://127.0.0.1:{free_port()}/0",
    }
    set_rates(settings, user="3/minute")


def test_fail_open_lets_requests_through_on_the_async_path(settings, dead_store, clock):
    settings.APIERRORS = {**settings.APIERRORS, "FAIL_OPEN": True}
    assert [allowed for allowed, _, _ in async_outcomes(UserThrottle, "10.0.0.5", 3)] == [True] * 3


def test_fail_closed_is_a_503_on_the_async_path(settings, dead_store, clock):
    settings.APIERRORS = {**settings.APIERRORS, "FAIL_OPEN": False}
    with pytest.raises(ServiceUnavailable):
        async_outcomes(UserThrottle, "10.0.0.6", 1)


# adrf: its async views call the same throttle classes --------------------------------


def responses(path: str, count: int) -> list[Any]:
    client = AsyncClient()
    return [async_to_sync(client.get)(path) for _ in range(count)]


def comparable(response: Any) -> tuple[Any, ...]:
    body = response.json()
    if "error" in body:
        body["error"].pop("requestId")
    names = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")
    return (response.status_code, body, [response.get(name) for name in names])


@pytest.mark.urls("tests.asyncio.urls")
@pytest.mark.parametrize(("sync_path", "async_path"), [("user", "a/user"), ("two", "a/two")])
def test_adrf_async_views_answer_as_drf_sync_views(
    settings, store, clock, api_client, sync_path, async_path
):
    set_rates(settings, user="3/minute")
    sync = [api_client.get(f"/t/throttle/{sync_path}/") for _ in range(6)]
    fresh_state(store)  # the async view starts from the same state, at the same clock
    asynchronous = responses(f"/{async_path}/", 6)
    assert [comparable(r) for r in sync] == [comparable(r) for r in asynchronous]
    assert asynchronous[-1].status_code == 429
    assert asynchronous[-1].json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"


@pytest.mark.redis
@pytest.mark.urls("tests.asyncio.urls")
def test_an_adrf_view_checks_its_throttles_in_one_call(settings, redis_store, redis_url, clock):
    # adrf's check_throttles calls every throttle, as DRF's: the batch applies.
    set_rates(settings, user="3/minute")
    responses("/a/two/", 1)  # loads the script
    before = evalsha_calls(redis_url)
    assert [r.status_code for r in responses("/a/two/", 2)] == [200, 429]
    assert evalsha_calls(redis_url) - before == 2  # two throttles, one call per request


@pytest.mark.urls("tests.asyncio.urls")
@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
def test_adrf_views_under_an_outage_honour_fail_open(
    settings, dead_store, clock, fail_open, status
):
    settings.APIERRORS = {**settings.APIERRORS, "FAIL_OPEN": fail_open}
    answers = responses("/a/user/", 2)
    assert [response.status_code for response in answers] == [status, status]
    if status == 503:
        assert answers[0].json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert int(answers[0]["Retry-After"]) >= 1


# athrottle: Django async views outside DRF -------------------------------------------


@pytest.mark.urls("tests.asyncio.urls")
def test_athrottle_answers_as_a_drf_view(settings, store, clock, api_client):
    set_rates(settings, user="3/minute")
    sync = [api_client.get("/t/throttle/user/") for _ in range(5)]
    fresh_state(store)
    plain = responses("/a/plain/", 5)
    assert [comparable(r) for r in plain] == [comparable(r) for r in sync]
    assert [r.status_code for r in plain] == [200, 200, 200, 429, 429]


def test_athrottle_refuses_a_sync_view():
    def view(request: Any) -> Any:
        return None

    with pytest.raises(TypeError, match="async def"):
        athrottle(UserThrottle)(view)


@pytest.mark.urls("tests.asyncio.urls")
@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
def test_athrottle_under_an_outage_honours_fail_open(
    settings, dead_store, clock, fail_open, status
):
    settings.APIERRORS = {**settings.APIERRORS, "FAIL_OPEN": fail_open}
    answers = responses("/a/plain/", 2)
    assert [response.status_code for response in answers] == [status, status]
    if status == 503:
        assert answers[0].json()["error"]["code"] == "SERVICE_UNAVAILABLE"


@pytest.mark.urls("tests.asyncio.urls")
def test_a_database_cache_is_checked_on_the_requests_database_connection(
    settings, clock, api_client
):
    # A DatabaseCache is read and written through the ORM: on the async path too, in the
    # thread Django runs sync code in (thread-sensitive), on the connection the request's
    # own code uses, not on one of a worker thread's that Django never manages (nor sees
    # this test's transaction).
    use_cache(
        settings,
        {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "throttle_db"},
    )
    call_command("createcachetable", verbosity=0)
    set_rates(settings, user="2/minute")
    sync = [api_client.get("/t/throttle/user/").status_code for _ in range(3)]
    caches[settings.APIERRORS["THROTTLE_CACHE"]].clear()
    plain = [answer.status_code for answer in responses("/a/plain/", 3)]
    assert plain == sync == [200, 200, 429]

"""A view's throttles checked in one store call (``apierrors.ratelimit.batch``).

A plain DRF view with ``throttle_classes`` (no mixin) makes one store call per request
whatever the number of throttles, all or none: a request one throttle refuses consumes
nothing from the others. The tests count ``EVALSHA`` calls on a private Redis.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from apierrors import ratelimit, signals
from apierrors.ratelimit import Store, get_store, plan_for
from apierrors.ratelimit.algorithms import ALGORITHMS, Mixed
from apierrors.ratelimit.base import combined_plan
from apierrors.ratelimit.headers import LIMIT, RATE_LIMIT_HEADERS_ATTR, REMAINING
from apierrors.ratelimit.rates import MICROS
from apierrors.throttling import (
    AnonRateLimitThrottle,
    RateLimitThrottle,
    ScopedRateLimitThrottle,
    UserRateLimitThrottle,
    athrottle,
)
from tests.fixtures.processes import race
from tests.throttle_app.helpers import evalsha_calls, set_rates

pytest_plugins = ["tests.throttle_app.fixtures"]

T0 = 1_800_000_000 * MICROS
_prefixes = itertools.count()
factory = APIRequestFactory()


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


clock = Clock()


class User(UserRateLimitThrottle):
    timer = clock  # DEFAULT_THROTTLE_RATES["user"]


class Scoped(ScopedRateLimitThrottle):
    timer = clock  # DEFAULT_THROTTLE_RATES[view.throttle_scope]


class PerPath(RateLimitThrottle):
    """A custom throttle of another algorithm: a burst limit per client and path."""

    scope = "path"
    algorithm = "gcra"
    timer = clock

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return f"path_{request.path}_{self.get_ident(request)}"


class Own(UserRateLimitThrottle):
    """A throttle with an ``allow_request`` of its own: checked by itself."""

    scope = "own"
    timer = clock
    calls = 0

    def allow_request(self, request: Any, view: Any) -> bool:
        type(self).calls += 1
        return super().allow_request(request, view)


class Upload(APIView):
    throttle_classes = [User, Scoped, PerPath]
    throttle_scope = "uploads"

    def post(self, request: Any) -> Response:
        return Response({"ok": True})


class WithOwn(Upload):
    throttle_classes = [User, Own, Scoped]


class DRFAnon(AnonRateThrottle):
    rate = "2/minute"  # DRF reads its rates when the class is made: set here


class WithDRF(Upload):
    throttle_classes = [User, DRFAnon, Scoped]


@pytest.fixture(autouse=True)
def _rates(settings: Any) -> None:
    clock.now = 1_800_000_000.0 - 1_800_000_000.0 % 86400
    set_rates(settings, user="3/minute", uploads="5/minute", path="10/second", own="4/minute")


def post(view: type[APIView], address: str = "192.0.2.1") -> tuple[int, dict[str, str]]:
    request = factory.post("/upload/", REMOTE_ADDR=address)
    response = view.as_view()(request)
    return response.status_code, request.__dict__.get(RATE_LIMIT_HEADERS_ATTR, {})


@pytest.mark.redis
def test_three_throttles_make_one_call_per_request(redis_store, redis_url):
    post(Upload, "192.0.2.200")  # loads the script (a first EVALSHA answers NOSCRIPT)
    before = evalsha_calls(redis_url)
    statuses = [post(Upload)[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Three throttle classes, two algorithms: one script call per request, refusal included
    # (the refusal is then remembered: the next request costs none).
    assert evalsha_calls(redis_url) - before == 4
    assert post(Upload)[0] == 429
    assert evalsha_calls(redis_url) - before == 4


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
def test_a_refused_request_consumes_nothing_from_the_other_throttles(request, settings, store_kind):
    request.getfixturevalue(f"{store_kind}_store")
    # user (3/minute) refuses the fourth request and the next ones.
    assert [post(Upload)[0] for _ in range(6)] == [200, 200, 200, 429, 429, 429]
    # A larger user rate (a policy of its own): uploads (5/minute) counted only the three
    # admitted requests, so it has two left in this minute, not none.
    set_rates(settings, user="30/minute", uploads="5/minute", path="10/second")
    status, headers = post(Upload)
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "5", "1")
    status, headers = post(Upload)
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "5", "0")
    assert post(Upload)[0] == 429


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
def test_the_headers_name_the_decisive_policy_across_throttles(request, settings, store_kind):
    request.getfixturevalue(f"{store_kind}_store")
    set_rates(settings, user="30/minute", uploads="5/minute", path="1/second")
    status, headers = post(Upload)
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "1", "0")
    # The per-path burst refuses: uploads and user count nothing.
    status, headers = post(Upload)
    assert (status, headers[LIMIT], headers[REMAINING]) == (429, "1", "0")
    set_rates(settings, user="30/minute", uploads="5/minute", path="100/second")
    status, headers = post(Upload)
    # uploads: the first request and this one; not the refused one.
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "5", "3")


@pytest.mark.redis
def test_a_throttle_with_its_own_allow_request_is_checked_by_itself(redis_store, redis_url):
    post(WithOwn, "192.0.2.200")  # loads the scripts
    Own.calls = 0
    before = evalsha_calls(redis_url)
    assert post(WithOwn)[0] == 200
    assert Own.calls == 1
    assert evalsha_calls(redis_url) - before == 2  # user + uploads together, own alone


class Anon(AnonRateLimitThrottle):
    timer = clock  # DEFAULT_THROTTLE_RATES["anon"]


class AnonAndUser(APIView):
    """DRF's guide's default pair, ``DEFAULT_THROTTLE_CLASSES = [Anon..., User...]``."""

    throttle_classes = [Anon, User]

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class Member:
    pk = 7
    is_authenticated = True


def get_as(member: Member | None) -> tuple[int, dict[str, str]]:
    request = factory.get("/items/", REMOTE_ADDR="192.0.2.1")
    if member is not None:
        force_authenticate(request, member)  # type: ignore[arg-type]
    response = AnonAndUser.as_view()(request)
    return response.status_code, request.__dict__.get(RATE_LIMIT_HEADERS_ATTR, {})


@pytest.mark.redis
def test_the_anon_and_user_pair_checks_an_anonymous_request_in_one_call(
    settings, redis_store, redis_url
):
    set_rates(settings, anon="2/minute", user="4/minute")
    get_as(None)  # loads the script
    before = evalsha_calls(redis_url)
    status, headers = get_as(None)
    # Both throttles count the address; the anonymous one has the fewest left.
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "2", "0")
    assert get_as(None)[0] == 429
    assert evalsha_calls(redis_url) - before == 2
    # The refusal consumed nothing from the user throttle. With a new anonymous rate (a
    # policy of its own, counted afresh), the user throttle decides: one left of its four
    # after this request (three admitted), then none.
    set_rates(settings, anon="3/minute", user="4/minute")
    status, headers = get_as(None)
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "4", "1")
    status, headers = get_as(None)
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "4", "0")
    assert get_as(None)[0] == 429


@pytest.mark.redis
def test_the_anon_and_user_pair_checks_a_member_with_the_user_throttle_alone(
    settings, redis_store, redis_url
):
    set_rates(settings, anon="1/minute", user="3/minute")
    get_as(Member())  # loads the script
    before = evalsha_calls(redis_url)
    results = [get_as(Member()) for _ in range(3)]
    assert [status for status, _ in results] == [200, 200, 429]
    assert results[0][1][LIMIT] == "3"
    # One call each, the user throttle's alone (no key for the anonymous one); the
    # refusal is then remembered: no call.
    assert evalsha_calls(redis_url) - before == 3
    assert get_as(Member())[0] == 429
    assert evalsha_calls(redis_url) - before == 3
    # Anonymous requests from the same address have their own quota.
    assert get_as(None)[0] == 200


class ChosenPerMethod(APIView):
    """Throttles chosen in ``get_throttles`` (per action, as DRF's docs suggest), with
    ``throttle_classes`` naming one class: the chosen ones are still checked together."""

    throttle_classes = [User]
    throttle_scope = "uploads"
    chosen_calls = 0

    def get_throttles(self) -> list[Any]:
        type(self).chosen_calls += 1
        if self.request.method == "POST":
            return [User(), Scoped(), PerPath()]
        return super().get_throttles()

    def get(self, request: Any) -> Response:
        return Response({"ok": True})

    def post(self, request: Any) -> Response:
        return Response({"ok": True})


@pytest.mark.redis
def test_throttles_chosen_in_get_throttles_make_one_call(redis_store, redis_url):
    post(ChosenPerMethod, "192.0.2.200")  # loads the script
    before = evalsha_calls(redis_url)
    assert [post(ChosenPerMethod)[0] for _ in range(4)] == [200, 200, 200, 429]
    assert evalsha_calls(redis_url) - before == 4


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
def test_throttles_chosen_in_get_throttles_are_all_or_none(request, settings, store_kind):
    request.getfixturevalue(f"{store_kind}_store")
    assert [post(ChosenPerMethod)[0] for _ in range(5)] == [200, 200, 200, 429, 429]
    set_rates(settings, user="30/minute", uploads="5/minute", path="10/second")
    status, headers = post(ChosenPerMethod)
    # uploads counted the three admitted requests only.
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "5", "1")


@pytest.mark.redis
def test_a_view_of_one_chosen_throttle_checks_it_alone(redis_store, redis_url):
    request = factory.get("/upload/", REMOTE_ADDR="192.0.2.9")
    assert ChosenPerMethod.as_view()(request).status_code == 200  # loads the script
    ChosenPerMethod.chosen_calls = 0
    before = evalsha_calls(redis_url)
    request = factory.get("/upload/", REMOTE_ADDR="192.0.2.9")
    response = ChosenPerMethod.as_view()(request)
    assert response.status_code == 200
    assert request.__dict__[RATE_LIMIT_HEADERS_ATTR][LIMIT] == "3"
    assert evalsha_calls(redis_url) - before == 1
    # DRF's own call, and the batch's look at what it chose (one throttle: no batch).
    assert ChosenPerMethod.chosen_calls == 2


@pytest.mark.redis
def test_drf_throttles_beside_them_run_as_usual(settings, redis_store, redis_url):
    post(WithDRF, "192.0.2.200")  # loads the script
    before = evalsha_calls(redis_url)
    assert [post(WithDRF)[0] for _ in range(3)] == [200, 200, 429]
    assert evalsha_calls(redis_url) - before == 3


class Private(Upload):
    permission_classes = [IsAuthenticated]


@pytest.mark.redis
def test_a_request_refused_before_the_throttles_is_counted_in_one_call(redis_store, redis_url):
    post(Upload, "192.0.2.200")  # loads the script
    before = evalsha_calls(redis_url)
    # The handler runs the view's throttles for a refusal that came before them.
    statuses = [post(Private)[0] for _ in range(4)]
    assert statuses[:3] in ([401] * 3, [403] * 3)
    assert statuses[3] == 429
    assert evalsha_calls(redis_url) - before == 4


@pytest.mark.redis
def test_a_remembered_refusal_answers_without_a_call(redis_store, redis_url):
    assert [post(Upload)[0] for _ in range(4)] == [200, 200, 200, 429]
    before = evalsha_calls(redis_url)
    for _ in range(50):
        status, headers = post(Upload)
        assert status == 429
        assert headers[LIMIT] == "3"
    assert evalsha_calls(redis_url) == before
    # Another client is checked as usual.
    assert post(Upload, "192.0.2.2")[0] == 200


def test_every_throttle_sends_its_decision(memory_store):
    seen: list[tuple[str, bool, int | None]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append((type(kwargs["throttle"]).__name__, kwargs["allowed"], kwargs["limit"]))

    signals.throttle_decision.connect(receiver)
    try:
        assert post(Upload)[0] == 200
    finally:
        signals.throttle_decision.disconnect(receiver)
    assert seen == [("User", True, 3), ("Scoped", True, 5), ("PerPath", True, 10)]


@pytest.mark.parametrize("fail_open", [True, False])
def test_an_outage_reaches_every_throttle_of_the_batch(settings, fail_open):
    from tests.fixtures.services import free_port

    settings.APIERRORS = {
        **settings.APIERRORS,
        "THROTTLE_STORE": f"redis://127.0.0.1:{free_port()}/0",
        "FAIL_OPEN": fail_open,
        "THROTTLE_STORE_TIMEOUT": 0.25,
    }
    status, headers = post(Upload)
    assert status == (200 if fail_open else 503)
    assert headers == {}


def test_a_store_that_cannot_batch_checks_each_throttle(settings, memory_store, monkeypatch):
    store = get_store(memory_store)
    calls: list[str] = []
    original = store.check

    def check(tag: str, plan: Any, now: Any = None) -> Any:
        calls.append(tag)
        return original(tag, plan, now)

    monkeypatch.setattr(store, "check", check)  # an instance's own check: no batch
    assert [post(Upload)[0] for _ in range(4)] == [200, 200, 200, 429]
    assert len(calls) == 12  # three per request, one by one, as DRF calls them
    assert store.check_many([("a", plan_for(("1/s",), "gcra", None, "x"))]) is None


def test_a_cluster_store_does_not_batch_keys_of_several_slots():
    from apierrors.ratelimit.cluster import RedisClusterStore

    plan = plan_for(("1/s",), "gcra", None, "x")
    store = RedisClusterStore.from_uri("redis+cluster://127.0.0.1:1/")
    # Answered before any connection: a cluster checks each throttle in its own slot.
    assert store.check_many([("a", plan), ("b", plan)]) is None


def athrottled_view() -> Any:
    """A call of an ``async def`` view under ``@athrottle(User, PerPath)``: its status."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import JsonResponse

    @athrottle(User, PerPath)
    async def view(request: Any) -> JsonResponse:
        return JsonResponse({"ok": True})

    def call() -> int:
        request = factory.post("/upload/", REMOTE_ADDR="192.0.2.1")
        request.user = AnonymousUser()
        return int(async_to_sync(view)(request).status_code)

    return call


@pytest.mark.redis
def test_athrottle_checks_its_throttles_in_one_call(redis_store, redis_url):
    call = athrottled_view()
    call()  # loads the script
    before = evalsha_calls(redis_url)
    assert [call() for _ in range(3)] == [200, 200, 429]
    assert evalsha_calls(redis_url) - before == 3


class ListedTwice(APIView):
    """One class listed twice (a project's defaults spread into a view's own list)."""

    throttle_classes = [User, Scoped, User]
    throttle_scope = "uploads"

    def post(self, request: Any) -> Response:
        return Response({"ok": True})


def test_a_throttle_listed_twice_counts_the_request_twice(store, algorithm):
    # As DRF and one-by-one checks count it: each copy takes one of user's three (one
    # key, one counter), so the second request is refused by the second copy.
    results = [post(ListedTwice) for _ in range(3)]
    assert [status for status, _ in results] == [200, 429, 429]
    assert (results[0][1][LIMIT], results[0][1][REMAINING]) == ("3", "1")


@pytest.mark.redis
def test_throttles_of_one_rate_on_different_clients_keys_share_one_call(
    settings, redis_store, redis_url
):
    # user and uploads at the same rate: one policy (same key suffix), different keys.
    set_rates(settings, user="3/minute", uploads="3/minute", path="10/second")
    post(Upload, "192.0.2.200")  # loads the script
    before = evalsha_calls(redis_url)
    assert [post(Upload)[0] for _ in range(4)] == [200, 200, 200, 429]
    assert evalsha_calls(redis_url) - before == 4


class StaffSkipsTheUploadLimit(Upload):
    """A ``check_throttles`` of its own that calls only some of the view's throttles."""

    def check_throttles(self, request: Any) -> None:
        for throttle in self.get_throttles():
            if isinstance(throttle, Scoped) and request.META.get("HTTP_X_STAFF"):
                continue
            if not throttle.allow_request(request, self):
                self.throttled(request, throttle.wait() or 1.0)


def test_a_throttle_a_custom_check_throttles_skips_counts_nothing(settings, store):
    set_rates(settings, user="30/minute", uploads="2/minute", path="100/second")
    for _ in range(3):
        request = factory.post("/upload/", REMOTE_ADDR="192.0.2.1", HTTP_X_STAFF="1")
        assert StaffSkipsTheUploadLimit.as_view()(request).status_code == 200
    # The upload limit was never asked: the client still has its two uploads.
    assert [post(StaffSkipsTheUploadLimit)[0] for _ in range(3)] == [200, 200, 429]


class WrapsCheckThrottles(Upload):
    def check_throttles(self, request: Any) -> None:
        super().check_throttles(request)


@pytest.mark.redis
def test_a_view_with_its_own_check_throttles_checks_each_throttle(redis_store, redis_url):
    # Its loop may call only some throttles: each checks by itself, as before batching.
    post(WrapsCheckThrottles, "192.0.2.200")  # loads the scripts
    before = evalsha_calls(redis_url)
    assert post(WrapsCheckThrottles)[0] == 200
    assert evalsha_calls(redis_url) - before == 3


class Shadow(PerPath):
    """A stricter limit tried out before it is enforced: its refusals are logged, and the
    request goes on (``throttle_failure`` returns ``True``)."""

    logged = 0

    def throttle_failure(self) -> bool:
        type(self).logged += 1
        return True


class WithShadow(Upload):
    throttle_classes = [User, Shadow]


def test_a_throttle_that_lets_its_refusals_through_leaves_the_others_counting(settings, store):
    set_rates(settings, user="3/minute", path="1/second")
    Shadow.logged = 0
    # The shadow limit refuses from the second request on, which lets each through: the
    # user throttle still counts every one of them, and refuses the fourth.
    assert [post(WithShadow)[0] for _ in range(5)] == [200, 200, 200, 429, 429]
    assert Shadow.logged == 4


class RealClock(UserRateLimitThrottle):
    """DRF's own ``timer`` (``SimpleRateThrottle.timer = time.time``), kept by a project."""

    timer = time.time


class RealClockScoped(ScopedRateLimitThrottle):
    timer = time.time


class OnRealClock(Upload):
    throttle_classes = [RealClock, RealClockScoped]


@pytest.mark.redis
def test_throttles_on_one_clock_read_it_once_and_make_one_call(settings, redis_store, redis_url):
    set_rates(settings, user="3/day", uploads="5/day")  # no window ends during the test
    post(OnRealClock, "192.0.2.200")  # loads the script
    before = evalsha_calls(redis_url)
    assert [post(OnRealClock)[0] for _ in range(4)] == [200, 200, 200, 429]
    assert evalsha_calls(redis_url) - before == 4


class SyncOnlyStore(Store):
    """A store of a project's own that checks several keys in one step, sync only (no
    ``arun_keys``): async views run it in a worker thread, as its ``check``."""

    schemes = ("synconly",)
    batches = True
    state: ClassVar[dict[str, Any]] = {}
    steps: ClassVar[int] = 0

    @classmethod
    def from_uri(cls, uri: str) -> SyncOnlyStore:
        return cls(uri)

    def run(self, tag: str, plan: Any, now: int | None) -> Any:
        return self.run_keys(plan.keys(tag), plan, now)

    def run_keys(self, keys: list[str], plan: Any, now: int | None) -> Any:
        type(self).steps += 1
        now = time.time_ns() // 1000 if now is None else now
        states = [self.state.get(key) for key in keys]
        result, writes = plan.algorithm.decide(states, now, plan.params)
        for key, (state, _) in zip(keys, writes or (), strict=False):
            self.state[key] = state
        return result


@pytest.fixture
def sync_only_store(settings: Any) -> Iterator[None]:
    saved = list(ratelimit.STORE_CLASSES)
    ratelimit.register_store(SyncOnlyStore)
    SyncOnlyStore.state.clear()
    SyncOnlyStore.steps = 0
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE": "synconly://here"}
    yield
    ratelimit.STORE_CLASSES[:] = saved
    ratelimit.reset_stores()


def test_athrottle_on_a_store_without_an_async_driver(sync_only_store):
    call = athrottled_view()
    assert [call() for _ in range(4)] == [200, 200, 200, 429]
    assert SyncOnlyStore.steps == 4  # both throttles in one step each time


@pytest.mark.parametrize("store_kind", ["memory", "redis"])
def test_throttles_awaited_together_wait_for_their_batch(request, settings, store_kind):
    """Async code that awaits a view's throttles at once (``asyncio.gather``) gets each
    one's own verdict: a refusal by any of them is not lost."""
    from rest_framework.request import Request

    request.getfixturevalue(f"{store_kind}_store")
    set_rates(settings, user="30/minute", uploads="5/minute", path="2/second")

    def verdicts() -> list[bool]:
        view = Upload()
        view.request = drf_request = Request(factory.post("/upload/", REMOTE_ADDR="192.0.2.1"))

        async def run() -> list[bool]:
            throttles: list[Any] = view.get_throttles()
            checks = [throttle.aallow_request(drf_request, view) for throttle in throttles]
            return list(await asyncio.gather(*checks))

        return async_to_sync(run)()

    assert [verdicts() for _ in range(3)] == [
        [True, True, True],
        [True, True, True],
        [True, True, False],
    ]


# The combined plan ---------------------------------------------------------------------------


def fresh_plan(rates: list[str], algorithm: str) -> Any:
    return plan_for(tuple(rates), algorithm, None, f"b{next(_prefixes)}")


def test_a_combined_plan_of_one_algorithm_runs_its_script():
    one, two = fresh_plan(["1/s"], "gcra"), fresh_plan(["2/m", "9/h"], "gcra")
    combined = combined_plan((one, two))
    assert combined.algorithm is ALGORITHMS["gcra"]
    assert combined.args == one.args + two.args
    assert combined.limit_texts == ("1", "2", "9")
    assert combined_plan((one, two)) is combined  # prepared once


def test_a_combined_plan_of_several_algorithms_names_each_policys():
    one, two = fresh_plan(["1/s"], "gcra"), fresh_plan(["2/m", "9/h"], "fixed_window")
    combined = combined_plan((one, two))
    assert isinstance(combined.algorithm, Mixed)
    assert combined.args[0] == b"gff"
    assert combined.args_server_time[:2] == (b"", b"gff")


def test_an_algorithm_the_mixed_script_does_not_know_is_checked_alone(memory_store):
    from apierrors.ratelimit.algorithms import GCRA
    from apierrors.ratelimit.base import Plan
    from apierrors.ratelimit.rates import parse_rate

    class Other(GCRA):
        name = "other"
        key_tag = "o"

    with pytest.raises(ValueError, match="cannot be mixed"):
        Mixed([ALGORITHMS["gcra"], Other()])
    other = Plan(Other(), [parse_rate("1/s")], None, "x")
    store = get_store(memory_store)
    assert store.check_many([("a", other), ("a", fresh_plan(["1/s"], "gcra"))]) is None


def test_each_part_reads_its_own_verdict(memory_store):
    store = get_store(memory_store)
    one, two = fresh_plan(["1/s"], "gcra"), fresh_plan(["2/m", "9/h"], "fixed_window")
    assert store.check_many([("c", one), ("c", two)], T0) == [
        [1, T0, 0, T0 + MICROS, 0],
        [1, T0, 1, T0 + 60 * MICROS, 0, 8, T0 + 3600 * MICROS, 0],
    ]
    # The GCRA part refuses; the fixed window allowed, and counts nothing: it reads allowed
    # with what it had left before the request.
    assert store.check_many([("c", one), ("c", two)], T0 + 1) == [
        [0, T0 + 1, 0, T0 + MICROS, MICROS - 1],
        [1, T0 + 1, 1, T0 + 60 * MICROS, 0, 8, T0 + 3600 * MICROS, 0],
    ]


RATES = ["2/s", "3/5s", "4/m", "5/h"]
part = st.tuples(
    st.sampled_from(sorted(ALGORITHMS)),
    st.lists(st.sampled_from(RATES), min_size=1, max_size=2, unique=True),
    st.sampled_from(["a", "b"]),
)


@pytest.mark.redis
@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parts=st.lists(part, min_size=2, max_size=3),
    start=st.integers(0, 10**12),
    steps=st.lists(st.integers(0, 3 * MICROS), min_size=1, max_size=25),
)
def test_lua_and_python_agree_on_combined_plans(
    settings, redis_store, memory_store, parts, start, steps
):
    settings.APIERRORS = {**settings.APIERRORS, "REMEMBER_DENIALS": False}
    redis_side, memory_side = get_store(redis_store), get_store(memory_store)
    checked = [(tag, fresh_plan(rates, algorithm)) for algorithm, rates, tag in parts]
    now = T0 + start
    for step in steps:
        now += step
        expected = memory_side.check_many(checked, now)
        assert expected is not None  # both stores check the parts together
        assert redis_side.check_many(checked, now) == expected


@pytest.mark.redis
def test_combined_plans_on_the_servers_clock(redis_store):
    store = get_store(redis_store)
    one, two = fresh_plan(["2/day"], "gcra"), fresh_plan(["3/day"], "fixed_window")

    def verdicts() -> list[int]:
        results = store.check_many([("c", one), ("c", two)])
        assert results is not None
        return [result[0] if result is not None else -1 for result in results]

    assert [verdicts() for _ in "abc"] == [[1, 1], [1, 1], [0, 1]]
    # The refused request took nothing from the fixed window: one left.
    assert store.check("c", two)[2] == 0
    assert store.check("c", two)[0] == 0


# Exactness -----------------------------------------------------------------------------------


RACE_RATES = {"user": "100/minute", "uploads": "150/minute", "path": "1000/s"}
# On the server's clock a minute's window may end during the run: a day's rates.
SERVER_RACE_RATES = {"user": "100/day", "uploads": "150/day", "path": "1000/s"}


class ServerUser(UserRateLimitThrottle):
    pass


class ServerScoped(ScopedRateLimitThrottle):
    pass


class ServerPerPath(PerPath):
    timer = None  # type: ignore[assignment]


class ServerUpload(Upload):
    """The same throttles on Redis's own clock (production settings)."""

    throttle_classes = [ServerUser, ServerScoped, ServerPerPath]


def _view_attempts(
    view: type[APIView], rates: dict[str, str], count: int, barrier: Any, results: Any
) -> None:
    with override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": rates}):
        barrier.wait(timeout=60)
        results.put(sum(post(view)[0] == 200 for _ in range(count)))


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("clock_kind", ["caller", "server"])
def test_many_processes_through_three_throttles_admit_exactly_the_limit(
    settings, redis_store, redis_url, clock_kind
):
    """16 processes x 100 requests, user at 100 per window: exactly 100 pass, and the other
    throttles counted exactly those 100 (the refused requests consumed nothing)."""
    view, rates = (
        (Upload, RACE_RATES) if clock_kind == "caller" else (ServerUpload, SERVER_RACE_RATES)
    )
    assert sum(race(_view_attempts, (view, rates, 100), 16)) == 100
    set_rates(settings, **rates)
    assert post(view)[0] == 429
    # A new user policy (another key): uploads had counted exactly 100, now 101.
    set_rates(settings, **{**rates, "user": "1000/day"})
    status, headers = post(view)
    assert (status, headers[LIMIT], headers[REMAINING]) == (200, "150", "49")

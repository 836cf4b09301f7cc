"""The throttle classes over HTTP: decisions, headers, the 429 envelope, settings, outages."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apierrors.ratelimit import get_store
from apierrors.ratelimit.headers import RATE_LIMIT_HEADERS_ATTR
from apierrors.ratelimit.redis import RedisStore
from apierrors.throttling import UserRateLimitThrottle
from tests.throttle_app.helpers import set_rates
from tests.throttle_app.views import Ok, ScopedThrottle, UserThrottle

pytest_plugins = ["tests.throttle_app.fixtures"]
pytestmark = pytest.mark.django_db

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def rate_headers(response) -> tuple[int, int, int]:
    return tuple(int(response[name]) for name in RATE_HEADERS)  # type: ignore[return-value]


def assert_throttled(response, retry_after: int) -> None:
    assert response.status_code == 429
    body = response.json()["error"]
    assert body["code"] == "RATE_LIMIT_EXCEEDED"
    assert body["retryAfter"] == retry_after
    assert response["Retry-After"] == str(retry_after)
    assert body["requestId"] == response["X-Request-ID"]
    assert response["X-RateLimit-Remaining"] == "0"


# Decisions and headers, per algorithm and store ------------------------------------------


def test_fixed_window_headers_and_429(api_client, settings, store, clock):
    set_rates(settings, user="3/minute")
    start = int(clock.now)
    remaining = []
    for _ in range(3):
        response = api_client.get("/t/throttle/user/")
        assert response.status_code == 200
        limit, left, reset = rate_headers(response)
        assert (limit, reset) == (3, start + 60)
        remaining.append(left)
    assert remaining == [2, 1, 0]
    clock.advance(15.5)
    response = api_client.get("/t/throttle/user/")
    assert_throttled(response, retry_after=45)
    assert rate_headers(response) == (3, 0, start + 60)


def test_fixed_window_edges(api_client, settings, store, clock):
    set_rates(settings, user="2/minute")
    start = clock.now
    assert api_client.get("/t/throttle/user/").status_code == 200
    clock.advance(59.999)
    assert api_client.get("/t/throttle/user/").status_code == 200
    response = api_client.get("/t/throttle/user/")
    assert_throttled(response, retry_after=1)
    clock.now = start + 60  # the next window, aligned to the epoch
    response = api_client.get("/t/throttle/user/")
    assert response.status_code == 200
    assert rate_headers(response) == (2, 1, int(start) + 120)


def test_fixed_windows_are_aligned_to_the_epoch(api_client, settings, store, clock):
    set_rates(settings, user="10/hour")
    clock.advance(1234.5)
    response = api_client.get("/t/throttle/user/")
    reset = int(response["X-RateLimit-Reset"])
    assert reset % 3600 == 0
    assert reset - clock.now == 3600 - 1234.5


def test_multiple_of_a_unit(api_client, settings, store, clock):
    set_rates(settings, user="1/5m")
    start = int(clock.now)
    assert rate_headers(api_client.get("/t/throttle/user/")) == (1, 0, start + 300)
    assert_throttled(api_client.get("/t/throttle/user/"), retry_after=300)


def test_gcra_spaces_requests_and_allows_a_burst(api_client, settings, store, clock):
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_ALGORITHM": "gcra"}
    set_rates(settings, user="3/minute")
    start = clock.now
    for left in (2, 1, 0):
        response = api_client.get("/t/throttle/user/")
        assert response.status_code == 200
        assert response["X-RateLimit-Remaining"] == str(left)
    # The burst is whole again 60 s after it was spent; one request comes back every 20 s.
    assert response["X-RateLimit-Reset"] == str(int(start) + 60)
    response = api_client.get("/t/throttle/user/")
    assert_throttled(response, retry_after=20)
    clock.advance(19.9)
    assert_throttled(api_client.get("/t/throttle/user/"), retry_after=1)
    clock.advance(0.1)
    response = api_client.get("/t/throttle/user/")
    assert response.status_code == 200
    assert rate_headers(response) == (3, 0, int(start) + 80)
    assert_throttled(api_client.get("/t/throttle/user/"), retry_after=20)


def test_gcra_burst_is_configurable(settings, memory_store, clock):
    class SmallBurst(UserThrottle):
        algorithm = "gcra"
        burst = 1

    class View(Ok):
        throttle_classes = [SmallBurst]

    set_rates(settings, user="60/minute")
    view = View.as_view()
    assert view(APIRequestFactory().get("/")).status_code == 200
    assert view(APIRequestFactory().get("/")).status_code == 429
    clock.advance(1)
    assert view(APIRequestFactory().get("/")).status_code == 200


# Several rates, several throttles -------------------------------------------------------


def test_several_rates_are_consumed_all_or_none(api_client, settings, store, algorithm, clock):
    """2/second and 5/minute: a request the first denies must not count against the second."""
    allowed = 0
    for _second in range(10):
        for _ in range(4):
            if api_client.get("/t/throttle/burst/").status_code == 200:
                allowed += 1
        clock.advance(1)
    # GCRA regains one request of 5/minute every 12 s: the 10 s run admits its burst only.
    assert allowed == 5


def test_headers_name_the_most_restrictive_rate(api_client, settings, store, clock):
    start = int(clock.now)
    response = api_client.get("/t/throttle/burst/")
    # 2/second has 1 left, 5/minute has 4 left.
    assert rate_headers(response) == (2, 1, start + 1)
    clock.advance(1)
    for _ in range(2):
        api_client.get("/t/throttle/burst/")
    clock.advance(1)
    response = api_client.get("/t/throttle/burst/")
    # 2/second has 1 left, 5/minute has 1 left: the later reset is the more restrictive.
    assert rate_headers(response) == (5, 1, start + 60)
    response = api_client.get("/t/throttle/burst/")
    assert rate_headers(response) == (5, 0, start + 60)
    # Both deny now; the minute's wait is the longer.
    response = api_client.get("/t/throttle/burst/")
    assert_throttled(response, retry_after=58)
    assert rate_headers(response) == (5, 0, start + 60)


def test_denial_names_the_rate_with_the_longest_wait(api_client, settings, store, clock):
    start = int(clock.now)
    for _ in range(2):
        api_client.get("/t/throttle/burst/")
    response = api_client.get("/t/throttle/burst/")
    assert_throttled(response, retry_after=1)
    assert rate_headers(response) == (2, 0, start + 1)


def test_headers_merge_across_throttle_classes(api_client, settings, store, clock):
    """DRF runs every throttle; the headers describe the decisive one across them."""
    start = int(clock.now)
    response = api_client.get("/t/throttle/two/")
    assert rate_headers(response) == (2, 1, start + 1)  # burst 1 left, sustained 2 left
    response = api_client.get("/t/throttle/two/")
    assert rate_headers(response) == (2, 0, start + 1)
    # Burst denies (wait 1 s); the view's throttles are checked all or none, so sustained,
    # a separate class, does not count the refused request.
    response = api_client.get("/t/throttle/two/")
    assert_throttled(response, retry_after=1)
    assert rate_headers(response) == (2, 0, start + 1)
    clock.advance(1)
    # Burst allows; sustained admits its third request, and is then the decisive one.
    response = api_client.get("/t/throttle/two/")
    assert response.status_code == 200
    assert rate_headers(response) == (3, 0, start + 60)
    # Sustained denies with the longest wait.
    response = api_client.get("/t/throttle/two/")
    assert_throttled(response, retry_after=59)
    assert rate_headers(response) == (3, 0, start + 60)


# Settings, scopes, identities --------------------------------------------------------------


def test_rates_are_read_when_the_request_arrives(api_client, settings, memory_store, clock):
    set_rates(settings, user="5/minute")
    assert api_client.get("/t/throttle/user/")["X-RateLimit-Limit"] == "5"
    set_rates(settings, user="7/minute")
    assert api_client.get("/t/throttle/user/")["X-RateLimit-Limit"] == "7"
    set_rates(settings, user=None)
    response = api_client.get("/t/throttle/user/")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response


def test_a_scope_may_list_several_rates(api_client, settings, memory_store, clock):
    set_rates(settings, user=["1/second", "100/day"])
    assert api_client.get("/t/throttle/user/").status_code == 200
    assert_throttled(api_client.get("/t/throttle/user/"), retry_after=1)


def test_scoped_throttle_reads_the_views_scope(settings, memory_store, clock):
    class ScopedView(Ok):
        throttle_classes = [ScopedThrottle]
        throttle_scope = "uploads"

    class UnscopedView(Ok):
        throttle_classes = [ScopedThrottle]

    set_rates(settings, uploads="1/minute")
    request = APIRequestFactory().get("/")
    assert ScopedView.as_view()(request).status_code == 200
    assert getattr(request, RATE_LIMIT_HEADERS_ATTR)["X-RateLimit-Limit"] == "1"
    assert ScopedView.as_view()(APIRequestFactory().get("/")).status_code == 429
    request = APIRequestFactory().get("/")
    assert UnscopedView.as_view()(request).status_code == 200
    assert not hasattr(request, "apierrors_rate_limit_headers")


def test_missing_scope_rate_is_a_configuration_error(settings, memory_store):
    from django.core.exceptions import ImproperlyConfigured

    from tests.throttle_app.views import UserThrottle

    set_rates(settings)
    with pytest.raises(ImproperlyConfigured, match="'user' scope"):
        UserThrottle().get_rate()


def test_user_and_anon_throttles_key_by_user(api_client, settings, memory_store, clock):
    set_rates(settings, user="1/minute", anon="1/minute")
    alice = get_user_model().objects.create(username="alice")
    bob = get_user_model().objects.create(username="bob")
    api_client.force_authenticate(alice)
    assert api_client.get("/t/throttle/user/").status_code == 200
    assert api_client.get("/t/throttle/user/").status_code == 429
    # Authenticated requests are not the anonymous throttle's business.
    response = api_client.get("/t/throttle/anon/")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response
    api_client.force_authenticate(bob)
    assert api_client.get("/t/throttle/user/").status_code == 200
    api_client.force_authenticate(None)
    assert api_client.get("/t/throttle/anon/").status_code == 200
    assert api_client.get("/t/throttle/anon/").status_code == 429


def test_forwarded_for_is_ignored_without_num_proxies(api_client, memory_store, clock):
    for i in range(3):
        response = api_client.get("/t/throttle/address/", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
        assert response.status_code == 200
    response = api_client.get("/t/throttle/address/", HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert response.status_code == 429


def test_forwarded_for_takes_the_entry_the_trusted_proxy_wrote(
    api_client, settings, memory_store, clock
):
    settings.APIERRORS = {**settings.APIERRORS, "NUM_PROXIES": 1}
    # The client forges entries on the left; the proxy appends the address it saw.
    for i in range(3):
        forged = f"203.0.113.{i}, 198.51.100.{i}"
        response = api_client.get("/t/throttle/address/", HTTP_X_FORWARDED_FOR=f"{forged}, 1.2.3.4")
        assert response.status_code == 200
    response = api_client.get("/t/throttle/address/", HTTP_X_FORWARDED_FOR="9.9.9.9, 1.2.3.4")
    assert response.status_code == 429
    other = api_client.get("/t/throttle/address/", HTTP_X_FORWARDED_FOR="9.9.9.9, 5.6.7.8")
    assert other.status_code == 200


# Headers on every response ---------------------------------------------------------------


def test_error_responses_of_throttled_views_carry_the_headers(
    api_client, settings, memory_store, clock
):
    set_rates(settings, user="5/minute")
    response = api_client.get("/t/throttle/failing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert rate_headers(response)[:2] == (5, 4)


def test_headers_can_be_turned_off(api_client, settings, memory_store, clock):
    set_rates(settings, user="1/minute")
    settings.APIERRORS = {**settings.APIERRORS, "RATELIMIT_HEADERS": False}
    response = api_client.get("/t/throttle/user/")
    assert "X-RateLimit-Limit" not in response
    response = api_client.get("/t/throttle/user/")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "X-RateLimit-Limit" not in response


def test_ietf_fields_are_opt_in(api_client, settings, memory_store, clock):
    assert "RateLimit" not in api_client.get("/t/throttle/two/")
    settings.APIERRORS = {**settings.APIERRORS, "IETF_RATELIMIT_HEADERS": True}
    clock.advance(2)
    response = api_client.get("/t/throttle/two/")
    assert response["RateLimit-Policy"] == (
        '"burst:2/1s";q=2;w=1, "burst:5/60s";q=5;w=60, "sustained:3/60s";q=3;w=60'
    )
    # sustained has 1 left and resets in 58 s; burst has 1 left per second, reset in 1 s.
    assert response["RateLimit"] == '"sustained:3/60s";r=1;t=58'
    assert response["X-RateLimit-Limit"] == "3"


# Store outages ---------------------------------------------------------------------------


@pytest.mark.slow
def test_outage_fails_open_and_warns_once_per_interval(
    api_client, settings, redis_store, clock, caplog, redis_server
):
    set_rates(settings, user="1/minute")
    assert api_client.get("/t/throttle/user/").status_code == 200
    redis_server.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="apierrors.throttling"):
            for _ in range(5):
                response = api_client.get("/t/throttle/user/")
                assert response.status_code == 200
                assert "X-RateLimit-Limit" not in response
        warnings = [r for r in caplog.records if r.name == "apierrors.throttling"]
        assert len(warnings) == 1
        assert "requests pass unthrottled" in warnings[0].getMessage()
    finally:
        redis_server.start()


@pytest.mark.slow
def test_outage_fails_closed_with_503(api_client, settings, redis_store, clock, redis_server):
    set_rates(settings, user="10/minute")
    settings.APIERRORS = {**settings.APIERRORS, "FAIL_OPEN": False, "BREAKER_COOLDOWN": 7.5}
    redis_server.stop()
    try:
        response = api_client.get("/t/throttle/user/")
        assert response.status_code == 503
        body = response.json()["error"]
        assert body["code"] == "SERVICE_UNAVAILABLE"
        assert body["retryAfter"] == 8
        assert response["Retry-After"] == "8"
        assert "Redis" not in response.content.decode()
    finally:
        redis_server.start()


@pytest.mark.slow
def test_breaker_skips_redis_and_recovery_needs_no_restart(
    api_client, settings, redis_store, clock, redis_server
):
    set_rates(settings, user="10/minute")
    settings.APIERRORS = {
        **settings.APIERRORS,
        "BREAKER_FAILURES": 2,
        "BREAKER_COOLDOWN": 3600,
    }
    assert api_client.get("/t/throttle/user/")["X-RateLimit-Remaining"] == "9"
    redis = get_store(redis_store)
    assert isinstance(redis, RedisStore)
    redis_server.pause()  # connections hang: each try costs a socket timeout
    try:
        for _ in range(2):
            assert api_client.get("/t/throttle/user/").status_code == 200
        assert redis.breaker.is_open
        failures = redis.breaker.failures
        for _ in range(20):
            assert api_client.get("/t/throttle/user/").status_code == 200
        assert redis.breaker.failures == failures  # the store was not tried again
    finally:
        redis_server.resume()
    redis.breaker.open_until = 0.0  # the cooldown is over
    response = api_client.get("/t/throttle/user/")
    # The requests that timed out reached the paused server and may have been counted
    # when it resumed: a timeout does not say whether a command ran.
    assert int(response["X-RateLimit-Remaining"]) <= 8
    assert not redis.breaker.is_open


@pytest.mark.slow
def test_restarted_redis_serves_again(api_client, settings, redis_store, clock, redis_server):
    set_rates(settings, user="10/minute")
    settings.APIERRORS = {**settings.APIERRORS, "BREAKER_COOLDOWN": 0}
    assert api_client.get("/t/throttle/user/")["X-RateLimit-Remaining"] == "9"
    redis_server.stop()
    try:
        for _ in range(4):
            assert api_client.get("/t/throttle/user/").status_code == 200
    finally:
        redis_server.start()
    # A fresh server: its data and its scripts are gone, the connections are stale.
    response = api_client.get("/t/throttle/user/")
    assert response["X-RateLimit-Remaining"] == "9"


class Decade(UserRateLimitThrottle):
    rate = "1/3650d"  # the longest period (rates.MAX_PERIOD), on the store's clock


class DecadeView(APIView):
    throttle_classes = [Decade]

    def get(self, request):
        return Response("ok")


@pytest.mark.parametrize("rate", ["1/3650d", "1000000000/3650d"])
def test_the_longest_period_is_counted_exactly(settings, store, algorithm, rate, monkeypatch):
    # The Redis scripts compute in doubles: past the longest period, GCRA lost a request's
    # own interval in rounding and refused the first request of a client.
    monkeypatch.setattr(Decade, "rate", rate)
    view = DecadeView.as_view()
    factory = APIRequestFactory()
    answers = [view(factory.get("/", REMOTE_ADDR="203.0.113.5")) for _ in range(2)]
    if rate == "1/3650d":
        assert [answer.status_code for answer in answers] == [200, 429]
        assert 1 <= int(answers[1]["Retry-After"]) <= 3650 * 86400
    else:
        assert [answer.status_code for answer in answers] == [200, 200]

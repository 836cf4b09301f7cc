"""Every Redis source of the store: Django's own RedisCache, URIs (redis://, rediss://,
redis+sentinel://), a store named on a throttle, outages, frozen servers, stores that
cannot be made. Exactness across processes is in tests/redis/test_exactness.py."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apierrors import ratelimit
from apierrors.conf import conf
from apierrors.ratelimit import Store, StoreUnavailable, get_store, plan_for, register_store
from apierrors.ratelimit.rates import MICROS
from apierrors.ratelimit.redis import RedisScriptStore, RedisStore
from apierrors.ratelimit.redis_uri import RedisSentinelStore, RedisURIStore, parse_sentinel_uri
from apierrors.ratelimit.rediscache import RedisCacheStore
from apierrors.ratelimit.unmade import UnmadeStore
from apierrors.ratelimit.uri import redact, scrub
from apierrors.throttling import RateLimitThrottle
from tests.fixtures.services import RedisServer, free_port, start_redis
from tests.throttle_app.helpers import redis_cache, set_rates, use_cache

pytest_plugins = ["tests.throttle_app.fixtures"]

T0 = 1_800_000_000 * MICROS
_prefixes = itertools.count()
USER = "/t/throttle/user/"


def fresh_plan(rates: list[str], algorithm: str = "fixed_window"):
    return plan_for(tuple(rates), algorithm, None, f"src{next(_prefixes)}")


def django_cache(location: str | list[str], **options: object) -> dict[str, object]:
    """A cache of Django's own Redis backend; no OPTIONS unless given (no timeouts)."""
    config: dict[str, object] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": location,
    }
    if options:
        config["OPTIONS"] = options
    return config


def closed_port() -> int:
    """A port nothing listens on: connections are refused."""
    return free_port()


def use_store(settings, uri: str, **apierrors: object) -> str:
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE": uri, **apierrors}
    return uri


@pytest.fixture
def registry() -> Iterator[list[str | type[Store]]]:
    saved = list(ratelimit.STORE_CLASSES)
    yield ratelimit.STORE_CLASSES
    ratelimit.STORE_CLASSES[:] = saved
    ratelimit.reset_stores()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, to stop or freeze."""
    server = start_redis()
    try:
        yield server
    finally:
        if server.process is not None:
            server.resume()
        server.stop()


# URIs: dispatch, parsing, secrets ------------------------------------------------------------


def test_redact_hides_the_password_only():
    assert redact("redis://:s3cret@h:6379/0") == "redis://:***@h:6379/0"
    assert redact("redis://user:s3cret@h/0") == "redis://user:***@h/0"
    assert redact("redis+sentinel://:pw@a:1,b:2/svc") == "redis+sentinel://:***@a:1,b:2/svc"
    assert redact("redis://h:6379/0") == "redis://h:6379/0"
    assert redact("redis://user@h/0") == "redis://user@h/0"
    assert redact("redis://user:@h/0") == "redis://user:@h/0"
    assert redact("not a uri: x@y") == "not a uri: x@y"
    assert scrub("cannot use redis://:s3cret@h/0 (s3cret)", "redis://:s3cret@h/0") == (
        "cannot use redis://:***@h/0 (***)"
    )


@pytest.mark.parametrize(
    "uri",
    [
        # Characters left unquoted, which redis-py's `from_url` (urllib) still reads: the
        # user information ends at the last "@".
        "redis://:p@ss@h:6379/0",
        "redis://alice:p@ss:w@rd@h/0",
        "redis+sentinel://:p@ss@a:1,b:2/svc",
        "redis+cluster://:p@ss@a:1,b:2/",
        "redis://:pa/ss@h/0",
        "redis://:pa?ss@h/0",
    ],
)
def test_redact_hides_a_password_with_unquoted_characters(uri):
    secret = uri.split("://", 1)[1].rpartition("@")[0].partition(":")[2]
    assert secret in ("p@ss", "p@ss:w@rd", "pa/ss", "pa?ss")
    assert redact(uri) == uri.replace(secret, "***")
    assert scrub(f"cannot use {uri} ({secret})", uri) == f"cannot use {redact(uri)} (***)"


@pytest.mark.redis
def test_a_password_with_an_at_sign_stays_out_of_the_outage_messages(settings, caplog):
    uri = f"redis://:pa@ss@127.0.0.1:{closed_port()}/0"
    store = get_store(use_store(settings, uri))
    assert isinstance(store, RedisURIStore)
    with pytest.raises(StoreUnavailable) as raised:
        store.check("c", fresh_plan(["1/m"]), 0)
    assert "ss@" not in store.alias
    assert "ss@" not in str(raised.value)


def test_sentinel_uri_shape():
    assert parse_sentinel_uri("redis+sentinel://a:1,b/svc") == (
        [("a", 1), ("b", 26379)],
        "svc",
        {},
    )
    assert parse_sentinel_uri("redis+sentinel://u:p%40ss@[::1]:5/my-svc/3") == (
        [("::1", 5)],
        "my-svc",
        {"username": "u", "password": "p@ss", "db": 3},
    )
    for bad in (
        "redis+sentinel://:s3cret@h:1",
        "redis+sentinel://:s3cret@/svc",
        "redis+sentinel://:s3cret@h:x/svc",
        "redis+sentinel://:s3cret@h/svc/db",
    ):
        with pytest.raises(ValueError, match="sentinel|path|database|port") as error:
            parse_sentinel_uri(bad)
        assert "s3cret" not in str(error.value)


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("redis://:s3cret@127.0.0.1:1/0", RedisURIStore),
        ("rediss://127.0.0.1:1/0", RedisURIStore),
        ("unix:///tmp/nothing.sock?db=0", RedisURIStore),
        ("redis+sentinel://:s3cret@127.0.0.1:1/svc/0", RedisSentinelStore),
    ],
)
def test_get_store_dispatches_a_uri_by_scheme(uri, kind):
    store = get_store(uri)
    assert type(store) is kind
    assert get_store(uri) is store
    assert "s3cret" not in store.alias
    assert (store.shared, store.atomic) == (True, True)


def test_base_store_is_not_made_from_a_uri():
    with pytest.raises(NotImplementedError):
        Store.from_uri("redis://h/0")


def test_django_redis_cache_gets_its_own_store(settings):
    alias = use_cache(settings, django_cache("redis://127.0.0.1:1/0"))
    assert type(get_store(alias)) is RedisCacheStore
    alias = use_cache(settings, redis_cache("redis://127.0.0.1:1/0"))
    assert type(get_store(alias)) is RedisStore


def test_the_store_timeout_bounds_the_stores_own_connections(settings):
    # The library's default, not the test settings' longer one.
    settings.APIERRORS = {
        key: value for key, value in settings.APIERRORS.items() if key != "THROTTLE_STORE_TIMEOUT"
    }
    alias = use_cache(settings, django_cache("redis://127.0.0.1:1/0", socket_timeout=30))
    store = get_store(alias)
    assert isinstance(store, RedisScriptStore)
    connections = store.connections
    assert connections is not None
    assert connections.kwargs["socket_timeout"] == 0.25
    assert connections.kwargs["socket_connect_timeout"] == 0.25
    retry = connections.kwargs["retry"]
    # get_retries() is redis-py 5.1's; the floor (5.0) keeps the count in _retries.
    assert (retry.get_retries() if hasattr(retry, "get_retries") else retry._retries) == 0
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE_TIMEOUT": None}
    store = get_store(alias)
    assert isinstance(store, RedisScriptStore)
    kept = store.connections  # made again: the timeout changed
    assert kept is not None
    assert kept is not connections
    assert kept.kwargs["socket_timeout"] == 30


def test_stores_survive_other_setting_changes(settings):
    alias = use_cache(settings, django_cache("redis://127.0.0.1:1/0"))
    store = get_store(alias)
    settings.APIERRORS = {**settings.APIERRORS, "FAIL_OPEN": False}
    assert get_store(alias) is store


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (None, True),
        ("redis://h:6379/0", True),
        ("default", False),
        (6379, False),
    ],
)
def test_throttle_store_setting_is_validated(settings, value, ok):
    settings.APIERRORS = {"THROTTLE_STORE": value}
    assert (conf.problems() == []) is ok


@pytest.mark.parametrize(("value", "ok"), [(0.1, True), (None, True), (0, False), (-1, False)])
def test_throttle_store_timeout_setting_is_validated(settings, value, ok):
    settings.APIERRORS = {"THROTTLE_STORE_TIMEOUT": value}
    assert (conf.problems() == []) is ok


class NamedThrottle(RateLimitThrottle):
    rate = "2/minute"

    def get_cache_key(self, request, view):
        return "named"


def test_which_store_a_throttle_uses(settings, memory_store):
    throttle = NamedThrottle()
    assert throttle.get_store() is get_store(memory_store)  # THROTTLE_CACHE
    use_store(settings, "redis://127.0.0.1:1/1")
    assert throttle.get_store() is get_store("redis://127.0.0.1:1/1")  # wins over the cache
    throttle.cache_alias = memory_store
    assert throttle.get_store() is get_store(memory_store)  # the throttle's own cache
    throttle.store = "redis://127.0.0.1:1/2"
    assert throttle.get_store() is get_store("redis://127.0.0.1:1/2")  # its own URI first


# Django's RedisCache on a real server ----------------------------------------------------------


def test_django_redis_cache_checks_on_the_primary_not_the_replica(
    settings, redis_server, redis_url
):
    replica = start_redis(["--replicaof", "127.0.0.1", str(redis_server.port)])
    try:
        alias = use_cache(settings, django_cache([redis_url, replica.url]))
        store = get_store(alias)
        plan = fresh_plan(["5/m"])
        # A check sent to the read-only replica would fail with READONLY.
        assert [store.check("c", plan, T0)[0] for _ in range(7)] == [1] * 5 + [0] * 2
        primary = redis.Redis.from_url(redis_url)
        assert any(b"{c}" in key for key in primary.keys("*"))
        primary.close()
    finally:
        replica.stop()


def _at_server_phase(client: redis.Redis, period: float, low: float, high: float) -> None:
    """Wait until the server's clock is between ``low`` and ``high`` seconds into a window."""
    deadline = time.monotonic() + 3 * period
    while time.monotonic() < deadline:
        seconds, micros = client.time()
        phase = (seconds + micros / MICROS) % period
        if low <= phase <= high:
            return
        time.sleep(0.01)
    raise TimeoutError("the server's clock never reached the phase")


@pytest.mark.parametrize(
    ("rate", "period", "phase", "attempts", "admitted"),
    [
        ("2/second", 1.0, (0.0, 0.4), 10, 2),
        # The window's last second: a state stored for under a second must still count.
        ("3/2s", 2.0, (1.1, 1.5), 5, 3),
    ],
)
def test_django_redis_cache_counts_short_windows_on_the_servers_clock(
    settings, redis_url, rate, period, phase, attempts, admitted
):
    alias = use_cache(settings, django_cache(redis_url))
    store = get_store(alias)
    plan = fresh_plan([rate])
    client = redis.Redis.from_url(redis_url)
    store.check("warm-up", plan)  # connect and load the script before the clock matters
    _at_server_phase(client, period, *phase)
    allowed = [store.check("c", plan)[0] for _ in range(attempts)]
    client.close()
    assert sum(allowed) == admitted
    assert allowed[:admitted] == [1] * admitted


# URI stores on a real server ------------------------------------------------------------------


def test_uri_store_with_a_password(settings):
    server = start_redis()
    try:
        redis.Redis(port=server.port).config_set("requirepass", "s3cret")
        store = get_store(f"redis://:s3cret@127.0.0.1:{server.port}/2")
        plan = fresh_plan(["2/m"])
        assert [store.check("c", plan, T0)[0] for _ in range(3)] == [1, 1, 0]
        client = redis.Redis(port=server.port, password="s3cret", db=2)
        assert any(b"{c}" in key for key in client.keys("*"))
        client.close()
        wrong = get_store(f"redis://:wrong-s3cret@127.0.0.1:{server.port}/2")
        with pytest.raises(StoreUnavailable) as error:
            wrong.check("c", plan, T0)
        assert "s3cret" not in str(error.value)
        assert "s3cret" not in wrong.alias
    finally:
        server.stop()


@pytest.mark.slow
def test_sentinel_uri_store_checks_on_the_named_primary(redis_server, redis_url):
    from tests.test_ratelimit_redis import Sentinel

    service = f"uri{redis_server.port}"
    sentinel = Sentinel(redis_server.port, service)
    try:
        store = get_store(f"redis+sentinel://127.0.0.1:{sentinel.port}/{service}/3")
        plan = fresh_plan(["2/m"])
        assert [store.check("c", plan, T0)[0] for _ in range(3)] == [1, 1, 0]
        client = redis.Redis(port=redis_server.port, db=3)
        assert any(b"{c}" in key for key in client.keys("*"))
        client.close()
    finally:
        sentinel.stop()


@pytest.mark.django_db
def test_throttles_use_the_uri_store_over_the_cache(settings, redis_url, api_client, clock):
    set_rates(settings, user="2/minute")
    use_store(settings, redis_url.replace("/0", "/4"))
    statuses = [api_client.get(USER).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    client = redis.Redis.from_url(redis_url.replace("/0", "/4"))
    assert client.keys("*")
    client.close()


def test_a_throttles_own_store_attribute(settings, redis_url):
    throttle = NamedThrottle()
    throttle.store = redis_url.replace("/0", "/5")
    request = Request(APIRequestFactory().get("/"))
    assert [throttle.allow_request(request, APIView()) for _ in range(3)] == [True, True, False]
    client = redis.Redis.from_url(redis_url.replace("/0", "/5"))
    assert any(b"{named}" in key for key in client.keys("*"))
    client.close()


# Outages: stopped, frozen, refused ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["django", "uri"])
@pytest.mark.parametrize("fail_open", [True, False])
def test_redis_down_follows_fail_open(settings, api_client, clock, source, fail_open):
    set_rates(settings, user="2/minute")
    location = f"redis://127.0.0.1:{closed_port()}/0"
    if source == "django":
        use_cache(settings, django_cache(location), FAIL_OPEN=fail_open)
    else:
        use_store(settings, location, FAIL_OPEN=fail_open)
    responses = [api_client.get(USER) for _ in range(4)]
    if fail_open:
        assert [r.status_code for r in responses] == [200] * 4
    else:
        assert [r.status_code for r in responses] == [503] * 4
        assert {r.json()["error"]["code"] for r in responses} == {"SERVICE_UNAVAILABLE"}


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["django", "uri"])
@pytest.mark.parametrize("fail_open", [True, False])
def test_frozen_redis_answers_within_the_store_timeout(
    settings, api_client, clock, own_redis, source, fail_open
):
    """Django's RedisCache with no timeouts at all, or a bare URI: a frozen server costs
    one THROTTLE_STORE_TIMEOUT per check, never a hang."""
    set_rates(settings, user="100/minute")
    if source == "django":
        use_cache(
            settings, django_cache(own_redis.url), FAIL_OPEN=fail_open, THROTTLE_STORE_TIMEOUT=0.25
        )
    else:
        use_store(settings, own_redis.url, FAIL_OPEN=fail_open, THROTTLE_STORE_TIMEOUT=0.25)
    assert api_client.get(USER).status_code == 200  # connected while the server answered
    own_redis.pause()
    try:
        for _ in range(2):
            started = time.monotonic()
            response = api_client.get(USER)
            elapsed = time.monotonic() - started
            assert response.status_code == (200 if fail_open else 503)
            assert "X-RateLimit-Limit" not in response.headers
            assert elapsed < 2.0, f"a frozen Redis held the request {elapsed:.2f} s"
            assert elapsed >= 0.2  # it did wait for the store's timeout
    finally:
        own_redis.resume()
    # Back by itself; the frozen server ran the checks it had read once it resumed.
    assert 96 <= int(api_client.get(USER).headers["X-RateLimit-Remaining"]) <= 98


def test_frozen_sentinel_is_bounded_too(settings):
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE_TIMEOUT": 0.25}
    # A sentinel that accepts connections and never answers.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        store = get_store(f"redis+sentinel://127.0.0.1:{listener.getsockname()[1]}/svc")
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.check("c", fresh_plan(["5/m"]), T0)
        assert time.monotonic() - started < 2.0
    finally:
        listener.close()


class CountingListener:
    """A TCP server that accepts and at once closes every connection, counting them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.sock.close()


@pytest.mark.django_db
def test_a_failing_store_is_not_tried_on_every_request(settings, api_client, clock, caplog):
    listener = CountingListener()
    try:
        set_rates(settings, user="100/minute")
        use_store(
            settings,
            f"redis://:s3cret@127.0.0.1:{listener.port}/0",
            BREAKER_FAILURES=3,
            BREAKER_COOLDOWN=60,
        )
        with caplog.at_level(logging.WARNING, logger="apierrors.throttling"):
            statuses = [api_client.get(USER).status_code for _ in range(30)]
        assert statuses == [200] * 30
        time.sleep(0.1)
        # Three checks (each tries a broken connection once more), then the breaker.
        assert 3 <= listener.accepted <= 6
        assert "s3cret" not in caplog.text
        assert "redis://:***@" in caplog.text
    finally:
        listener.close()


# Stores that cannot be made ------------------------------------------------------------------


class FlakyStore(Store):
    """A store for the scheme ``flaky``: its making fails while ``failing`` is set."""

    schemes = ("flaky",)
    shared = True
    atomic = True
    attempts = 0
    failing = True

    @classmethod
    def from_uri(cls, uri: str) -> FlakyStore:
        FlakyStore.attempts += 1
        if FlakyStore.failing:
            raise ImportError("No module named 'flakydriver' (flaky://:s3cret@h)")
        return cls(uri)

    def run(self, tag, plan, now):
        return [1, now or T0, 1, T0, 0]


@pytest.fixture
def flaky(registry, monkeypatch) -> list[float]:
    FlakyStore.attempts = 0
    FlakyStore.failing = True
    register_store(FlakyStore)
    now = [1000.0]
    monkeypatch.setattr(UnmadeStore, "clock", staticmethod(lambda: now[0]))
    return now


def test_a_store_that_cannot_be_made_is_retried_with_a_backoff(settings, flaky):
    settings.APIERRORS = {**settings.APIERRORS, "BREAKER_COOLDOWN": 5}
    uri = "flaky://:s3cret@h"
    plan = fresh_plan(["5/m"])
    store = get_store(uri)
    assert isinstance(store, UnmadeStore)
    assert "s3cret" not in store.alias
    attempts_at = []
    for _ in range(200):  # 200 checks, one every half second: 100 s
        with pytest.raises(StoreUnavailable) as error:
            store.check("c", plan, T0)
        assert "s3cret" not in str(error.value)
        assert "flakydriver" in str(error.value)
        attempts_at.append(FlakyStore.attempts)
        flaky[0] += 0.5
    # Made at 0 s, then tried again at 5, 15 (5 + 10), 35 (+ 20) and 75 (+ 40) seconds.
    changes = [i * 0.5 for i in range(1, 200) if attempts_at[i] != attempts_at[i - 1]]
    assert changes == [5.0, 15.0, 35.0, 75.0]
    assert FlakyStore.attempts == 5
    FlakyStore.failing = False
    flaky[0] += 80
    assert store.check("c", plan, T0)[0] == 1
    made = get_store(uri)
    assert type(made) is FlakyStore  # it took the stand-in's place
    assert FlakyStore.attempts == 6


def test_backoff_is_capped(settings, flaky):
    settings.APIERRORS = {**settings.APIERRORS, "BREAKER_COOLDOWN": 100}
    store = get_store("flaky://h")
    assert isinstance(store, UnmadeStore)
    store.attempts = 10
    assert store.delay() == 300.0


@pytest.mark.django_db
@pytest.mark.parametrize("fail_open", [True, False])
def test_a_store_that_cannot_be_made_follows_fail_open(
    settings, flaky, api_client, clock, fail_open
):
    set_rates(settings, user="2/minute")
    use_store(settings, "flaky://:s3cret@h", FAIL_OPEN=fail_open)
    statuses = [api_client.get(USER).status_code for _ in range(5)]
    assert statuses == ([200] * 5 if fail_open else [503] * 5)
    assert FlakyStore.attempts == 1  # not made again on every request


@pytest.mark.django_db
def test_an_unknown_scheme_is_an_outage_not_a_500(settings, api_client, clock):
    set_rates(settings, user="2/minute")
    use_store(settings, "nosuch://h/0", FAIL_OPEN=False)
    response = api_client.get(USER)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_a_uri_that_does_not_parse_is_an_outage(settings):
    store = get_store("redis://:s3cret@h:notaport/0")
    assert isinstance(store, UnmadeStore)
    with pytest.raises(StoreUnavailable) as error:
        store.check("c", fresh_plan(["1/s"]), T0)
    assert "s3cret" not in str(error.value)

"""The Redis store on real servers: client kinds, NOSCRIPT, outages, many processes at once."""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

from apierrors.ratelimit import get_store, plan_for
from apierrors.ratelimit.algorithms import ALGORITHMS
from apierrors.ratelimit.base import StoreUnavailable
from apierrors.ratelimit.breaker import CircuitBreaker, OutageLog
from apierrors.ratelimit.rates import MICROS
from apierrors.ratelimit.redis import RedisStore
from tests.fixtures.processes import race
from tests.fixtures.services import free_port, missing_service, start_redis
from tests.throttle_app.helpers import redis_cache, use_cache

pytest_plugins = ["tests.throttle_app.fixtures"]
pytestmark = pytest.mark.redis

T0 = 1_800_000_000 * MICROS
_prefixes = itertools.count()


def fresh_plan(rates, algorithm="fixed_window"):
    return plan_for(tuple(rates), algorithm, None, f"r{next(_prefixes)}")


def keys_on(url: str) -> list[str]:
    client = redis.Redis.from_url(url)
    try:
        return sorted(key.decode() if isinstance(key, bytes) else key for key in client.keys("*"))
    finally:
        client.close()


def test_every_rate_of_a_check_shares_one_hash_tag():
    plan = fresh_plan(["2/s", "10/m"])
    keys = plan.keys("throttle_user_7")
    assert len(set(keys)) == 2
    assert all(key.count("{") == 1 and "{~user_7}" in key for key in keys)
    # Braces in a client's key would move the tag; they are replaced.
    assert all(key.count("{") == key.count("}") == 1 for key in plan.keys("odd{tag}"))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_noscript_after_script_flush_reloads(redis_store, redis_url, algorithm):
    store = get_store(redis_store)
    assert isinstance(store, RedisStore)
    plan = fresh_plan(["5/m"], algorithm)
    assert store.check("c", plan, T0)[2] == 4
    client = redis.Redis.from_url(redis_url)
    client.script_flush()
    assert store.check("c", plan, T0)[2] == 3
    assert client.script_exists(store.script(plan, "c").sha) == [True]
    client.close()


def test_writes_go_to_the_primary_of_a_replicated_setup(settings, redis_server, redis_url):
    replica = start_redis(["--replicaof", "127.0.0.1", str(redis_server.port)])
    try:
        alias = use_cache(settings, redis_cache([redis_url, replica.url]))
        store = get_store(alias)
        plan = fresh_plan(["5/m"])
        for _ in range(10):  # a write sent to the read-only replica would fail
            store.check("c", plan, T0)
        assert any("{c}" in key for key in keys_on(redis_url))
    finally:
        replica.stop()


@pytest.mark.slow
def test_shard_client_keeps_each_check_on_one_server(settings, redis_url):
    other = start_redis()
    try:
        redis.Redis.from_url(other.url).flushall()
        alias = use_cache(
            settings,
            redis_cache([redis_url, other.url], CLIENT_CLASS="django_redis.client.ShardClient"),
        )
        store = get_store(alias)
        plan = fresh_plan(["2/s", "3/m"])
        tags = [f"client{i}" for i in range(40)]
        for tag in tags:
            assert [store.check(tag, plan, T0)[0] for _ in range(3)] == [1, 1, 0]
        first, second = keys_on(redis_url), keys_on(other.url)
        assert len(first) + len(second) == 2 * len(tags)
        for tag in tags:
            on_first = [key for key in first if f"{{{tag}}}" in key]
            on_second = [key for key in second if f"{{{tag}}}" in key]
            assert sorted([len(on_first), len(on_second)]) == [0, 2]
        # The ring spreads clients over both servers.
        assert first
        assert second
    finally:
        other.stop()


class Sentinel:
    """A redis-server in sentinel mode watching one primary."""

    def __init__(self, primary_port: int, service: str) -> None:
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="apierrors-sentinel-"))
        config = self.workdir / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.workdir}\n"
            f"sentinel monitor {service} 127.0.0.1 {primary_port} 1\n"
            f"sentinel down-after-milliseconds {service} 1000\n"
            f"sentinel failover-timeout {service} 5000\n"
        )
        executable = shutil.which("redis-server")
        assert executable is not None
        self.process = subprocess.Popen(
            [executable, str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(port=self.port, socket_timeout=1)
        self.wait(lambda: self.client.ping())

    @staticmethod
    def wait(probe, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = probe()
                if value:
                    return value
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("sentinel did not get there in time")
            time.sleep(0.1)

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.mark.slow
def test_sentinel_client_follows_a_failover(settings, redis_url, redis_server):
    if shutil.which("redis-server") is None:
        missing_service("redis-server is not on PATH")
    replica = start_redis(["--replicaof", "127.0.0.1", str(redis_server.port)])
    service = f"apierrors{redis_server.port}"
    sentinel = Sentinel(redis_server.port, service)
    try:
        alias = use_cache(
            settings,
            redis_cache(
                f"redis://{service}/0",
                CLIENT_CLASS="django_redis.client.SentinelClient",
                CONNECTION_FACTORY="django_redis.pool.SentinelConnectionFactory",
                SENTINELS=[("127.0.0.1", sentinel.port)],
            ),
        )
        store = get_store(alias)
        plan = fresh_plan(["100/m"])
        assert store.check("c", plan, T0)[2] == 99
        # Wait until the replica has the count, then promote it.
        replica_client = redis.Redis.from_url(replica.url)
        sentinel.wait(lambda: replica_client.keys("*"))
        sentinel.wait(lambda: sentinel.client.execute_command("SENTINEL", "REPLICAS", service))
        sentinel.client.execute_command("SENTINEL", "FAILOVER", service)
        sentinel.wait(
            lambda: (
                replica_client.info("replication")["role"] == "master"
                and redis.Redis.from_url(redis_url).info("replication")["role"] == "slave"
            )
        )
        # The old primary is a replica now: its connections answer READONLY, and the
        # store finds the new primary without a restart.
        result = sentinel.wait(lambda: _allowed(store, plan))
        assert result[2] == 98
        replica_client.close()
    finally:
        sentinel.stop()
        redis.Redis.from_url(redis_url).execute_command("REPLICAOF", "NO", "ONE")
        replica.stop()


def _allowed(store, plan):
    try:
        return store.check("c", plan, T0)
    except StoreUnavailable:
        return None


# Outages at the store level ------------------------------------------------------------------


@pytest.mark.slow
def test_stopped_server_is_store_unavailable_and_recovery_needs_no_restart(
    settings, redis_store, redis_server
):
    settings.APIERRORS = {**settings.APIERRORS, "BREAKER_FAILURES": 0}
    store = get_store(redis_store)
    plan = fresh_plan(["5/m"])
    assert store.check("c", plan, T0)[2] == 4
    redis_server.stop()
    try:
        for _ in range(3):
            with pytest.raises(StoreUnavailable, match="ConnectionError"):
                store.check("c", plan, T0)
    finally:
        redis_server.start()
    assert store.check("c", plan, T0)[2] == 4  # a new server, empty


def is_open(breaker: CircuitBreaker) -> bool:
    """``breaker.is_open`` read through a call, which mypy does not narrow between reads."""
    return breaker.is_open


def test_breaker_opens_after_consecutive_failures(settings):
    settings.APIERRORS = {**settings.APIERRORS, "BREAKER_FAILURES": 3, "BREAKER_COOLDOWN": 10}
    now = [100.0]
    breaker = CircuitBreaker(clock=lambda: now[0])
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    breaker.success()  # a success in between starts the count over
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    assert breaker.is_open
    assert not breaker.allow()
    now[0] += 9.9
    assert not breaker.allow()
    now[0] += 0.1
    assert breaker.allow()  # one trial
    assert not breaker.allow()  # the others keep failing fast meanwhile
    breaker.failure()
    assert not breaker.allow()
    now[0] += 10
    assert breaker.allow()
    breaker.success()
    assert not is_open(breaker)
    assert breaker.allow()


def test_breaker_can_be_turned_off(settings):
    settings.APIERRORS = {**settings.APIERRORS, "BREAKER_FAILURES": 0}
    breaker = CircuitBreaker()
    for _ in range(100):
        breaker.failure()
    assert breaker.allow()


def test_outage_log_speaks_once_per_interval(settings):
    settings.APIERRORS = {**settings.APIERRORS, "OUTAGE_LOG_INTERVAL": 60}
    now = [0.0]
    log = OutageLog(clock=lambda: now[0])
    assert log.due() == 1
    assert [log.due() for _ in range(4)] == [None] * 4
    now[0] += 60
    assert log.due() == 5


# Exact across processes ----------------------------------------------------------------------


def _attempts(alias, plan, count, barrier, results):
    store = get_store(alias)
    barrier.wait(timeout=60)
    allowed = sum(store.check("shared", plan, T0)[0] for _ in range(count))
    results.put(allowed)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_many_processes_admit_exactly_the_limit(redis_store, algorithm):
    """16 processes x 100 attempts on one 100-per-minute key admit exactly 100."""
    plan = fresh_plan(["100/minute"], algorithm)
    assert sum(race(_attempts, (redis_store, plan, 100), 16)) == 100


def test_store_kind_follows_the_backend(redis_store, memory_store):
    assert isinstance(get_store(redis_store), RedisStore)
    assert not isinstance(get_store(memory_store), RedisStore)


def test_stores_are_made_again_when_caches_change(settings, redis_store):
    store = get_store(redis_store)
    assert get_store(redis_store) is store
    settings.CACHES = {**settings.CACHES}
    assert get_store(redis_store) is not store


def test_socket_errors_count_as_outages(settings, redis_store):
    # A port nothing listens on: connection refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    alias = use_cache(settings, redis_cache(f"redis://127.0.0.1:{port}/0"))
    with pytest.raises(StoreUnavailable):
        get_store(alias).check("c", fresh_plan(["1/s"]), T0)

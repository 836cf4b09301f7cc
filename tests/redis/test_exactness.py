"""Exact across processes on every Redis source: 16 processes x 100 attempts on one key at
100 per minute admit exactly 100, on Django's RedisCache (one server, and a primary with a
replica, whose reads go to the replica), on a ``redis://`` URI and on a
``redis+sentinel://`` URI with a real sentinel. (django-redis: tests/test_ratelimit_redis.py.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
import redis

from apierrors.ratelimit import get_store, plan_for
from apierrors.ratelimit.algorithms import ALGORITHMS
from apierrors.ratelimit.rates import MICROS
from tests.fixtures.processes import race
from tests.fixtures.services import RedisServer, start_redis
from tests.test_ratelimit_redis import Sentinel
from tests.throttle_app.helpers import use_cache

pytestmark = [pytest.mark.slow, pytest.mark.redis]

PROCESSES = 16
ATTEMPTS = 100
LIMIT = "100/minute"
T0 = 1_800_000_000 * MICROS
_prefixes = itertools.count()


def _attempts(name, plan, now, barrier, results) -> None:
    # In the forked child: the store and its connections are the child's own.
    store = get_store(name)
    barrier.wait(timeout=60)
    results.put(sum(store.check("shared", plan, now)[0] for _ in range(ATTEMPTS)))


def admitted(name: str, algorithm: str, now: int | None) -> int:
    """How many of PROCESSES x ATTEMPTS checks on one key the store ``name`` admits."""
    plan = plan_for((LIMIT,), algorithm, None, f"exact{next(_prefixes)}")
    return sum(race(_attempts, (name, plan, now), PROCESSES))


@pytest.fixture
def primary() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.stop()


def django_redis_cache(settings, servers: list[RedisServer]) -> str:
    location = [server.url for server in servers]
    return use_cache(
        settings, {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}
    )


def one_server(settings, primary: RedisServer) -> tuple[str, Callable[[], None]]:
    return django_redis_cache(settings, [primary]), lambda: None


def with_replica(settings, primary: RedisServer) -> tuple[str, Callable[[], None]]:
    replica = start_redis(["--replicaof", "127.0.0.1", str(primary.port)])
    return django_redis_cache(settings, [primary, replica]), replica.stop


def uri(settings, primary: RedisServer) -> tuple[str, Callable[[], None]]:
    return f"redis://127.0.0.1:{primary.port}/1", lambda: None


def sentinel(settings, primary: RedisServer) -> tuple[str, Callable[[], None]]:
    service = f"exact{primary.port}"
    watcher = Sentinel(primary.port, service)
    return f"redis+sentinel://127.0.0.1:{watcher.port}/{service}/2", watcher.stop


SOURCES = {
    "django-one-server": one_server,
    "django-primary-replica": with_replica,
    "redis-uri": uri,
    "sentinel-uri": sentinel,
}


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_sixteen_processes_admit_exactly_the_limit(settings, primary, source, algorithm):
    # One injected instant: with Redis's clock a window could end, or GCRA give back a
    # request, while the processes run (the server's clock: test_ratelimit_redis_sources).
    name, stop = SOURCES[source](settings, primary)
    try:
        assert admitted(name, algorithm, T0) == 100
        # Every write went to the primary.
        client = redis.Redis(
            port=primary.port, db={"redis-uri": 1, "sentinel-uri": 2}.get(source, 0)
        )
        assert any(b"{shared}" in key for key in client.keys("*"))
        client.close()
    finally:
        stop()

"""``Store.acheck``: the native Redis path, the memory store, custom stores, outages."""

from __future__ import annotations

import asyncio
import threading

import pytest

from apierrors.ratelimit import Store, StoreUnavailable, get_store, plan_for
from apierrors.ratelimit.aio import async_connection_class
from apierrors.ratelimit.base import Plan, Result
from apierrors.ratelimit.redis_uri import RedisURIStore
from tests.fixtures.services import free_port

pytestmark = pytest.mark.django_db


def plan(rate: str = "3/minute", algorithm: str = "fixed_window") -> Plan:
    return plan_for((rate,), algorithm, None, "async-test")


@pytest.mark.redis
@pytest.mark.parametrize("algorithm", ["fixed_window", "gcra"])
def test_native_check_counts_as_the_sync_one(redis_url, algorithm):
    store = RedisURIStore(redis_url)
    three = plan("3/minute", algorithm)

    async def checks() -> list[bool]:
        allowed = [bool((await store.acheck("a", three))[0]) for _ in range(4)]
        # One after another, the checks share one connection of the loop's own.
        loop_connections = store.connections.by_loop[asyncio.get_running_loop()]  # type: ignore[union-attr]
        assert len(loop_connections.idle) == 1
        return allowed

    assert asyncio.run(checks()) == [True, True, True, False]
    # The same state as the sync path: the key is spent for both.
    assert store.check("a", three)[0] == 0
    assert store.check("b", three)[0] == 1


@pytest.mark.redis
def test_each_event_loop_has_its_own_connections(redis_url):
    store = RedisURIStore(redis_url)
    three = plan()

    async def check() -> object:
        await store.acheck("a", three)
        loop = asyncio.get_running_loop()
        return store.connections.by_loop[loop]  # type: ignore[union-attr]

    first = asyncio.run(check())
    # Another loop, in another thread: a connection of the first loop is never reused.
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(asyncio.run(check())))
    thread.start()
    thread.join()
    assert len(seen) == 1
    assert seen[0] is not first
    assert store.check("a", three)[2] == 0  # the third of three


@pytest.mark.redis
def test_scripts_are_loaded_again_after_a_flush(redis_url):
    import redis

    store = RedisURIStore(redis_url)
    three = plan()

    async def twice() -> list[int]:
        first = (await store.acheck("a", three))[2]
        redis.Redis.from_url(redis_url).script_flush()
        second = (await store.acheck("a", three))[2]
        return [first, second]

    assert asyncio.run(twice()) == [2, 1]


def test_unreachable_redis_is_store_unavailable_and_trips_the_breaker(settings):
    settings.APIERRORS = {**settings.APIERRORS, "BREAKER_FAILURES": 2, "BREAKER_COOLDOWN": 30}
    store = get_store(f"redis://127.0.0.1:{free_port()}/0")

    async def checks() -> list[str]:
        messages = []
        for _ in range(3):
            with pytest.raises(StoreUnavailable) as caught:
                await store.acheck("a", plan())
            messages.append(str(caught.value))
        return messages

    messages = asyncio.run(checks())
    assert "ConnectionError" in messages[0]
    assert "circuit breaker open" in messages[2]


def test_memory_store_checks_locmem_inline(settings):
    settings.CACHES = {
        **settings.CACHES,
        "amem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "amem"},
    }
    store = get_store("amem")
    threads: list[str] = []
    original = store.run

    def run(tag: str, plan: Plan, now: int | None) -> Result:
        threads.append(threading.current_thread().name)
        return original(tag, plan, now)

    store.run = run  # type: ignore[method-assign]

    async def checks() -> list[int]:
        return [(await store.acheck("a", plan(), 10**15))[0] for _ in range(4)]

    assert asyncio.run(checks()) == [1, 1, 1, 0]
    assert set(threads) == {threading.main_thread().name}


class CountingStore(Store):
    """A custom store that implements only the sync ``run``."""

    errors = (OSError,)

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self.threads: list[threading.Thread] = []
        self.fail = False

    def run(self, tag: str, plan: Plan, now: int | None) -> Result:
        self.threads.append(threading.current_thread())
        if self.fail:
            raise OSError("down")
        return [1, 0, 2, 0, 0]


def test_a_store_without_arun_runs_its_check_in_a_worker_thread():
    store = CountingStore("custom")

    async def check() -> Result:
        return await store.acheck("a", plan())

    assert list(asyncio.run(check())) == [1, 0, 2, 0, 0]
    assert store.threads[0] is not threading.main_thread()
    store.fail = True
    with pytest.raises(StoreUnavailable, match="OSError: down"):
        asyncio.run(check())
    assert store.breaker.failures == 1


def test_connection_classes_and_their_async_twins():
    import redis.asyncio.connection as aconnection
    import redis.connection
    from redis.sentinel import SentinelManagedConnection

    class Custom(redis.connection.SSLConnection):
        pass

    assert async_connection_class(redis.connection.Connection) is aconnection.Connection
    assert async_connection_class(Custom) is aconnection.SSLConnection
    assert (
        async_connection_class(redis.connection.UnixDomainSocketConnection)
        is aconnection.UnixDomainSocketConnection
    )
    # It finds the primary through its pool's sentinels, not through host and port.
    assert async_connection_class(SentinelManagedConnection) is None


class Wrapped:
    """A sync connection class with no async twin: the store checks in a worker thread."""

    def __init__(self, **kwargs: object) -> None:
        import redis.connection

        self.threads = threading.current_thread()
        self.connection = redis.connection.Connection(**kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self.connection, name)


@pytest.mark.redis
def test_a_connection_class_without_an_async_twin_checks_in_a_worker_thread(redis_url):
    store = RedisURIStore(redis_url)
    assert store.connections is not None
    store.connections.connection_class = Wrapped

    async def checks() -> list[int]:
        return [(await store.acheck("a", plan()))[0] for _ in range(4)]

    assert asyncio.run(checks()) == [1, 1, 1, 0]
    assert len(store.connections.by_loop) == 0
    assert store.connections.idle[0].threads is not threading.main_thread()

"""Event loops over a process's life: ``asyncio.run`` and ``async_to_sync`` (in a sync
context, Django serving an ``async def`` view under WSGI) make a loop per call, and an ASGI
server's loop lives as long as the process. A loop that ends must take its Redis
connections with it: none kept open, none remembered."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest
import redis
from django.test import Client

from apierrors.ratelimit import get_store, plan_for
from apierrors.ratelimit.base import Plan, Result
from apierrors.ratelimit.redis import RedisScriptStore
from apierrors.ratelimit.redis_uri import RedisURIStore
from tests.fixtures.processes import race
from tests.throttle_app.helpers import set_rates

pytest_plugins = ["tests.throttle_app.fixtures"]
pytestmark = [pytest.mark.redis, pytest.mark.django_db]

_names = itertools.count()


@pytest.fixture
def named_url(redis_url: str) -> str:
    """The private Redis, with a client name of the test's own on the store's connections."""
    return f"{redis_url}?client_name=apierrors-loops-{next(_names)}"


def open_connections(url: str) -> int:
    """How many connections named as ``url`` names them the server has open."""
    name = url.rpartition("client_name=")[2]
    client = redis.Redis.from_url(url.partition("?")[0])
    try:
        return sum(1 for one in client.client_list() if one["name"] == name)
    finally:
        client.close()


def plan() -> Plan:
    return plan_for(("100/minute",), "fixed_window", None, "loops")


def loops_kept(store: RedisScriptStore) -> int:
    assert store.connections is not None
    return len(store.connections.by_loop)


def test_a_loop_that_ends_closes_its_connections(named_url):
    store = RedisURIStore(named_url)

    async def checks() -> None:
        # Three at once: three connections of the loop's own.
        await asyncio.gather(*(store.acheck("a", plan()) for _ in range(3)))

    for _ in range(5):
        asyncio.run(checks())
    assert loops_kept(store) == 0
    assert open_connections(named_url) == 0
    assert store.check("a", plan())[2] == 100 - 16


def test_a_loop_closed_without_shutting_down_is_forgotten(named_url):
    store = RedisURIStore(named_url)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(store.acheck("a", plan()))
    loop.close()  # no shutdown_asyncgens: its connections were not closed with it

    async def check() -> int:
        result = await store.acheck("a", plan())
        assert loops_kept(store) == 1  # this loop only
        return result[2]

    assert asyncio.run(check()) == 98


@pytest.mark.urls("tests.asyncio.urls")
def test_async_views_under_wsgi_keep_no_connection_per_request(settings, named_url, clock):
    # Django serves an async view to a sync (WSGI) handler through async_to_sync: one
    # event loop per request.
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE": named_url}
    set_rates(settings, user="100/minute")
    client = Client()
    answers = [client.get("/a/plain/") for _ in range(8)]
    assert [answer.status_code for answer in answers] == [200] * 8
    assert answers[-1]["X-RateLimit-Remaining"] == "92"
    store = get_store(named_url)
    assert isinstance(store, RedisScriptStore)
    assert loops_kept(store) == 0
    assert open_connections(named_url) == 0


def _child_checks(url: str, barrier: object, results: object) -> None:
    # In the forked child: the parent's loop does not run here; the child's checks open
    # connections of their own and leave the parent's alone.
    store = get_store(url)
    assert isinstance(store, RedisScriptStore)
    assert store.connections is not None
    kept = len(store.connections.by_loop)

    async def checks() -> int:
        return sum([(await store.acheck("a", plan()))[0] for _ in range(3)])

    results.put((kept, asyncio.run(checks()), len(store.connections.by_loop)))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_fork_after_a_loop_made_connections(settings, named_url):
    # A loop that lives as long as the process (an ASGI server's), in a thread of its own.
    store = get_store(named_url)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:

        def check() -> Result:
            return asyncio.run_coroutine_threadsafe(store.acheck("a", plan()), loop).result(10)

        assert check()[2] == 99
        ((kept, allowed, left),) = race(_child_checks, (named_url,), 1)
        assert (kept, allowed, left) == (0, 3, 0)
        # The parent's connection still serves its loop, and saw the child's checks.
        assert check()[2] == 95
        assert open_connections(named_url) == 1
    finally:
        asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    assert open_connections(named_url) == 0

"""The Redis store's raw connection (``apierrors.ratelimit.wire``) on real servers."""

from __future__ import annotations

import itertools
import multiprocessing
import signal
import socket
import threading
import time
from typing import Any

import pytest
import redis

from apierrors.ratelimit import get_store, plan_for
from apierrors.ratelimit import wire as wire_module
from apierrors.ratelimit.algorithms import ALGORITHMS
from apierrors.ratelimit.base import StoreUnavailable
from apierrors.ratelimit.rates import MICROS
from apierrors.ratelimit.redis import RedisScriptStore
from apierrors.ratelimit.wire import WireClient
from tests.fixtures.services import start_redis
from tests.throttle_app.helpers import evalsha_calls, redis_cache, use_cache

pytest_plugins = ["tests.throttle_app.fixtures"]
pytestmark = pytest.mark.redis

T0 = 1_800_000_000 * MICROS
_prefixes = itertools.count()


def wire_local(store: RedisScriptStore) -> Any:
    """The thread-local state of ``store``'s wire client (which it must have)."""
    wire = store.wire
    assert wire is not None
    return wire.local


def fresh_plan(rates, algorithm="fixed_window"):
    return plan_for(tuple(rates), algorithm, None, f"w{next(_prefixes)}")


def test_a_plain_server_is_checked_through_the_raw_connection(redis_store, redis_url):
    store = get_store(redis_store)
    assert isinstance(store, RedisScriptStore)
    assert isinstance(store.wire, WireClient)
    plan = fresh_plan(["3/m", "10/h"])
    store.check("warm-up", plan, T0)  # the first call meets NOSCRIPT and loads the script
    before = evalsha_calls(redis_url)
    results = [list(store.check("c", plan, T0)) for _ in range(4)]
    assert evalsha_calls(redis_url) - before == 4
    # The same answers as the Python form of the algorithm, computed step by step.
    assert [r[0] for r in results] == [1, 1, 1, 0]
    assert [r[2] for r in results] == [2, 1, 0, 0]
    assert [r[5] for r in results[:3]] == [9, 8, 7]


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_server_clock_and_caller_clock(redis_store, algorithm):
    store = get_store(redis_store)
    assert isinstance(store, RedisScriptStore)
    plan = fresh_plan(["5/m"], algorithm)
    result = store.check("c", plan)
    assert result[0] == 1
    assert abs(result[1] - time.time() * MICROS) < 5 * MICROS
    assert store.check("d", plan, T0)[1] == T0


def test_username_password_and_database_are_used(settings):
    server = start_redis(
        ["--user", "default", "on", "nopass", "~*", "+@all"]
        + ["--user", "alice", "on", ">s3cret", "~*", "+@all"]
    )
    try:
        url = f"redis://alice:s3cret@127.0.0.1:{server.port}/3"
        alias = use_cache(settings, redis_cache(url))
        store = get_store(alias)
        assert isinstance(store, RedisScriptStore)
        assert isinstance(store.wire, WireClient)
        plan = fresh_plan(["5/m"])
        assert store.check("c", plan, T0)[2] == 4
        client = redis.Redis(port=server.port, db=3)
        assert [k.decode() if isinstance(k, bytes) else k for k in client.keys("*")] == plan.keys(
            "c"
        )
        client.close()
        # A wrong password is the store's error, not a crash.
        bad = use_cache(settings, redis_cache(f"redis://alice:nope@127.0.0.1:{server.port}/3"))
        with pytest.raises(StoreUnavailable, match="ResponseError|AuthenticationError"):
            get_store(bad).check("c", plan, T0)
    finally:
        server.stop()


def test_a_connection_the_server_closed_is_replaced(redis_store, redis_url):
    store = get_store(redis_store)
    assert isinstance(store, RedisScriptStore)
    plan = fresh_plan(["100/m"])
    assert store.check("c", plan, T0)[2] == 99
    client = redis.Redis.from_url(redis_url)
    client.client_kill_filter(_type="normal", skipme=True)
    client.close()
    assert store.check("c", plan, T0)[2] == 98


def test_a_silent_server_times_out(settings):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        port = listener.getsockname()[1]
        settings.APIERRORS = {
            **settings.APIERRORS,
            "BREAKER_FAILURES": 0,
            "THROTTLE_STORE_TIMEOUT": 0.25,
        }
        alias = use_cache(settings, redis_cache(f"redis://127.0.0.1:{port}/0"))
        store = get_store(alias)
        assert isinstance(store, RedisScriptStore)
        assert isinstance(store.wire, WireClient)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="TimeoutError"):
            store.check("c", fresh_plan(["1/s"]), T0)
        assert time.monotonic() - started < 2  # the store's timeout is 0.25 s
    finally:
        listener.close()


def test_threads_have_connections_of_their_own_and_stay_exact(redis_store, settings):
    # Every thread goes to Redis: none is answered from the refusals another remembered.
    settings.APIERRORS = {**settings.APIERRORS, "REMEMBER_DENIALS": False}
    store = get_store(redis_store)
    assert isinstance(store, RedisScriptStore)
    plan = fresh_plan(["50/m"])
    admitted = []
    connections = []  # kept alive, so that no two can share an id()

    def attempts() -> None:
        admitted.append(sum(store.check("shared", plan, T0)[0] for _ in range(20)))
        connections.append(wire_local(store).conn)

    threads = [threading.Thread(target=attempts) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 50
    assert len({id(conn) for conn in connections}) == 8


def _child(alias, plan, queue):
    store = get_store(alias)
    assert isinstance(store, RedisScriptStore)
    inherited = getattr(wire_local(store), "conn", None)
    queue.put((inherited is None, store.check("c", plan, T0)[2]))


def test_a_forked_child_opens_its_own_connection(redis_store):
    store = get_store(redis_store)
    assert isinstance(store, RedisScriptStore)
    plan = fresh_plan(["10/m"])
    assert store.check("c", plan, T0)[2] == 9
    parent = wire_local(store).conn
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(redis_store, plan, queue))
    process.start()
    assert queue.get(timeout=30) == (True, 8)
    process.join(timeout=30)
    assert process.exitcode == 0
    # The parent's connection is untouched and still in use.
    assert store.check("c", plan, T0)[2] == 7
    assert wire_local(store).conn is parent


def test_without_hiredis_or_on_other_connections_redis_py_is_used(settings, redis_url, monkeypatch):
    pool = redis.ConnectionPool.from_url(redis_url)
    assert WireClient.for_pool(pool) is not None
    unix = redis.ConnectionPool(connection_class=redis.UnixDomainSocketConnection, path="/x")
    assert WireClient.for_pool(unix) is None
    monkeypatch.setattr(wire_module, "hiredis", None)
    assert WireClient.for_pool(pool) is None
    alias = use_cache(settings, redis_cache(redis_url))
    store = get_store(alias)
    assert isinstance(store, RedisScriptStore)
    assert store.wire is None
    assert store.check("c", fresh_plan(["5/m"]), T0)[2] == 4


def _server_busy_for(port: int, seconds: float) -> threading.Thread:
    """Keep the server at ``port`` from answering for ``seconds`` (a command that blocks it)."""
    client = redis.Redis(port=port)

    def sleep() -> None:
        client.execute_command("DEBUG", "SLEEP", seconds)
        client.close()

    thread = threading.Thread(target=sleep)
    thread.start()
    time.sleep(0.05)  # the server is asleep once the command reached it
    return thread


@pytest.mark.parametrize("raw", [True, False], ids=["wire", "redis-py"])
def test_a_timeout_on_the_replacement_connection_does_not_leave_its_reply_behind(
    settings, monkeypatch, raw
):
    # A restart drops the thread's connection; the new one times out (a slow server): its
    # late reply must never be read as the answer to the next check.
    server = start_redis(["--enable-debug-command", "local"])
    if not raw:
        monkeypatch.setattr(wire_module, "hiredis", None)
    try:
        settings.APIERRORS = {
            **settings.APIERRORS,
            "BREAKER_FAILURES": 0,
            "REMEMBER_DENIALS": False,  # every check goes to Redis
        }
        alias = use_cache(settings, redis_cache(server.url), THROTTLE_STORE_TIMEOUT=0.2)
        store = get_store(alias)
        assert isinstance(store, RedisScriptStore)
        assert (store.wire is not None) is raw
        plan = fresh_plan(["1/m"])
        assert store.check("refused", plan, T0)[0] == 1
        assert store.check("refused", plan, T0)[0] == 0
        admin = redis.Redis(port=server.port)
        admin.client_kill_filter(_type="normal", skipme=True)
        admin.close()
        sleeper = _server_busy_for(server.port, 0.5)
        with pytest.raises(StoreUnavailable, match="TimeoutError"):
            store.check("allowed", plan, T0)
        sleeper.join()
        # Redis answered that check meanwhile (allowed); this client is still refused, and
        # each later check reads its own reply.
        assert store.check("refused", plan, T0)[0] == 0
        assert store.check("new", plan, T0)[0] == 1
        assert store.check("refused", plan, T0)[0] == 0
    finally:
        server.stop()


class _Interrupted(Exception):
    pass


def _interrupt(signum: int, frame: Any) -> None:
    raise _Interrupted


@pytest.mark.parametrize("raw", [True, False], ids=["wire", "redis-py"])
def test_a_check_interrupted_mid_reply_does_not_leave_its_reply_behind(settings, monkeypatch, raw):
    # An exception raised by a signal handler (a request timeout of the server's own)
    # while the thread waits for the reply: the reply comes later, on that connection.
    server = start_redis(["--enable-debug-command", "local"])
    if not raw:
        monkeypatch.setattr(wire_module, "hiredis", None)
    previous = signal.signal(signal.SIGALRM, _interrupt)
    try:
        settings.APIERRORS = {**settings.APIERRORS, "REMEMBER_DENIALS": False}
        alias = use_cache(settings, redis_cache(server.url), THROTTLE_STORE_TIMEOUT=5.0)
        store = get_store(alias)
        assert isinstance(store, RedisScriptStore)
        assert (store.wire is not None) is raw
        plan = fresh_plan(["1/m"])
        assert store.check("refused", plan, T0)[0] == 1
        sleeper = _server_busy_for(server.port, 0.5)
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(_Interrupted):
            store.check("allowed", plan, T0)
        sleeper.join()
        assert store.check("refused", plan, T0)[0] == 0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        server.stop()


def test_a_new_connection_closed_at_once_is_not_tried_again(settings):
    # Only a connection that sat idle is worth a second try: a new one that fails means
    # the server is refusing us (e.g. at maxclients), and trying again doubles the cost.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def close_each() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # the listener is closed: the test is over
                return
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=close_each)
    thread.start()
    try:
        port = listener.getsockname()[1]
        settings.APIERRORS = {**settings.APIERRORS, "BREAKER_FAILURES": 0}
        store = get_store(use_cache(settings, redis_cache(f"redis://127.0.0.1:{port}/0")))
        assert isinstance(store, RedisScriptStore)
        assert isinstance(store.wire, WireClient)
        with pytest.raises(StoreUnavailable, match="ConnectionError"):
            store.check("c", fresh_plan(["1/s"]), T0)
        assert len(accepted) == 1
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join()

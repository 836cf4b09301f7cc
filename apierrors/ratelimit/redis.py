"""The Redis stores: one Lua script call per check, on connections of the store's own.

Each check is one ``EVALSHA`` of the algorithm's script (its SHA computed here; after
``NOSCRIPT``, e.g. after a restart, a failover or ``SCRIPT FLUSH``, the script is loaded
again and run once more). The script reads the time from Redis's own ``TIME`` unless the
throttle injects a clock, checks every rate of the throttle and writes only when all
allow. The keys of one check share a hash tag, so that they live on one server.

``RedisScriptStore`` is the part every Redis source shares: it runs the scripts over
``Connections`` to one server, made from any redis-py connection pool's settings with the
socket timeouts of ``THROTTLE_STORE_TIMEOUT``. Each source is one subclass that finds the
pool of the server to write to:

- ``RedisStore``: a django-redis cache. ``DefaultClient`` (one server, or a primary with
  replicas): the primary, from ``django_redis.get_redis_connection(alias, write=True)``;
  ``SentinelClient``: the same call gives the primary the sentinels currently name;
  ``ShardClient``: the server that django-redis's hash ring gives the hash tag, which is
  the server its own ``cache.get("...{tag}...")`` would use;
- ``RedisCacheStore`` (``apierrors.ratelimit.rediscache``): Django's own ``RedisCache``;
- ``RedisURIStore`` and ``RedisSentinelStore`` (``apierrors.ratelimit.redis_uri``): a
  store named by URI in ``THROTTLE_STORE``.

``arun`` runs the same scripts on redis.asyncio, on connections of the running event
loop's own (``apierrors.ratelimit.aio``), for ``Store.acheck`` on async views.

The stores declare redis-py's errors as their own, so ``Store.check`` turns them into
``StoreUnavailable`` and counts them for the circuit breaker. redis-py and django-redis
are imported only when a store is made: finding the store of another cache never
imports them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.core.cache import caches

from apierrors.ratelimit.base import Plan, Result, Store
from apierrors.ratelimit.config import current

if TYPE_CHECKING:
    from apierrors.ratelimit.aio import AsyncConnections
    from apierrors.ratelimit.wire import WireClient


class LuaScript:
    """A script and its SHA1, by which ``EVALSHA`` calls it."""

    __slots__ = ("script", "sha")

    def __init__(self, script: str) -> None:
        self.script = script
        self.sha = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


class NoAsyncTwin(Exception):
    """The connection class has no redis.asyncio twin (e.g. Sentinel-managed ones), or its
    settings ask what the twin cannot do (``apierrors.ratelimit.aio.async_kwargs``)."""


class Connections:
    """Connections to one Redis server, kept for the store's own use.

    A check borrows an idle connection (or opens one), runs its script and gives the
    connection back. The connections are made as a redis-py pool makes them (its
    ``connection_class`` and ``connection_kwargs``: address, database, password, TLS,
    Sentinel discovery) but with the store's own socket timeouts (``timeout``, the
    ``THROTTLE_STORE_TIMEOUT`` setting) and no retries of redis-py's, so a frozen server
    costs one timeout whatever the pool's own settings. They are not borrowed through
    the pool, whose bookkeeping per command (locking, observability hooks and a ``poll``
    for stale data) costs a third of a round trip. A connection that fails is dropped; a
    forked child starts with none of its parent's.
    """

    def __init__(self, pool: Any, timeout: float | None) -> None:
        from redis import exceptions
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # Named in `except` clauses, which look them up only when an error is raised.
        self.connection_error = exceptions.ConnectionError
        self.response_error = exceptions.ResponseError
        self.noscript_error = exceptions.NoScriptError
        self.connection_class: Any = pool.connection_class
        kwargs: dict[str, Any] = dict(pool.connection_kwargs)
        if timeout is not None:
            kwargs["socket_timeout"] = kwargs["socket_connect_timeout"] = timeout
        kwargs["retry"] = Retry(NoBackoff(), 0)
        self.kwargs: Mapping[str, Any] = kwargs
        self.idle: list[Any] = []
        # redis.asyncio connections belong to the loop that opened them: one set per loop,
        # until it ends (see apierrors.ratelimit.aio).
        self.by_loop: dict[asyncio.AbstractEventLoop, AsyncConnections] = {}
        self._loops_lock = threading.Lock()
        _all_connections.add(self)

    def open(self) -> Any:
        connection = self.connection_class(**self.kwargs)
        # Explicitly, as the pool does: a Sentinel connection asks for the primary here.
        connection.connect()
        return connection

    def evalsha(self, script: LuaScript, keys: Sequence[str], args: Sequence[bytes]) -> Any:
        """``EVALSHA``, loading the script on ``NOSCRIPT``; redis-py's errors propagate.

        A connection that sat idle may have been closed by the server meanwhile (a
        restart, an idle timeout): a ``ConnectionError`` is tried once more on a new
        connection. Timeouts are not, so an unresponsive server costs one timeout.
        """
        try:
            connection = self.idle.pop()
        except IndexError:
            connection = self.open()
        for retry in (False, True):
            try:
                reply = self._evalsha(connection, script, keys, args)
            except self.response_error:
                self.idle.append(connection)
                raise
            except self.connection_error:
                connection.disconnect()
                if retry:
                    raise
                connection = self.open()
                continue
            except BaseException:
                connection.disconnect()
                raise
            self.idle.append(connection)
            return reply
        raise AssertionError("unreachable")

    def _evalsha(
        self, connection: Any, script: LuaScript, keys: Sequence[str], args: Sequence[bytes]
    ) -> Any:
        connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return connection.read_response()
        except self.noscript_error:
            # Scripts are gone after SCRIPT FLUSH, a restart or a failover: load, run again.
            connection.send_command("SCRIPT", "LOAD", script.script)
            connection.read_response()
            connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return connection.read_response()

    def forget(self) -> None:
        self.idle = []
        self._loops_lock = threading.Lock()  # another thread may have held it at the fork
        by_loop, self.by_loop = self.by_loop, {}
        for connections in by_loop.values():
            connections.abandon(forked=True)

    async def aevalsha(self, script: LuaScript, keys: Sequence[str], args: Sequence[bytes]) -> Any:
        """``evalsha`` on redis.asyncio, on the running event loop's own connections.

        Raises ``NoAsyncTwin`` when the connection class has none on redis.asyncio."""
        loop = asyncio.get_running_loop()
        connections = self.by_loop.get(loop)
        if connections is None:
            connections = await self._connections_of(loop)
        return await connections.evalsha(script, keys, args)

    async def _connections_of(self, loop: asyncio.AbstractEventLoop) -> AsyncConnections:
        """New connections for ``loop``, forgotten (and closed) when it shuts down."""
        from apierrors.ratelimit.aio import AsyncConnections, async_connection_class, async_kwargs

        klass = async_connection_class(self.connection_class)
        timeout = self.kwargs.get("socket_timeout")
        kwargs = (
            None
            if klass is None
            else async_kwargs(klass, self.connection_class, self.kwargs, timeout)
        )
        if klass is None or kwargs is None:
            raise NoAsyncTwin(self.connection_class)
        connections = AsyncConnections(klass, kwargs)
        with self._loops_lock:
            # Loops closed without shutting down (loop.close() alone) are forgotten here.
            closed = [other for other in self.by_loop if other.is_closed()]
            abandoned = [self.by_loop.pop(other) for other in closed]
            self.by_loop[loop] = connections
        for old in abandoned:
            old.abandon()

        def ended() -> None:
            with self._loops_lock:
                if self.by_loop.get(loop) is connections:
                    del self.by_loop[loop]

        await connections.watch(ended)
        return connections


_all_connections: weakref.WeakSet[Connections] = weakref.WeakSet()


def _forget_after_fork() -> None:
    # The parent's sockets must not be shared: a child opens its own.
    for connections in list(_all_connections):
        connections.forget()


os.register_at_fork(after_in_child=_forget_after_fork)

_scripts: dict[str, LuaScript] = {}


class RedisScriptStore(Store):
    """Runs the Lua form of each algorithm on one Redis server, over ``Connections``.

    A subclass finds the server's redis-py pool and sets ``connections`` in its
    ``__init__`` (or overrides ``connections_for`` when the server depends on the key).
    """

    shared = True
    atomic = True

    def __init__(self, alias: str) -> None:
        from redis.exceptions import RedisError

        super().__init__(alias)
        self.errors = (RedisError, OSError)
        self.connections: Connections | None = None
        # The raw connection of wire.py, made at the first check for one plain-TCP server;
        # None where it cannot serve (Sentinel, TLS, sockets, per-key servers, no hiredis).
        self._wire: WireClient | None = None
        self._wire_decided = False

    @property
    def wire(self) -> WireClient | None:
        """The raw connection of ``apierrors.ratelimit.wire`` for one plain-TCP server, made
        on first use; ``None`` where it cannot serve (Sentinel, TLS, a Unix socket, servers
        that depend on the key, no hiredis)."""
        if not self._wire_decided:
            wire = None
            if self.connections is not None:
                from apierrors.ratelimit.wire import WireClient

                wire = WireClient.for_connection_settings(
                    self.connections.connection_class, self.connections.kwargs
                )
            self._wire, self._wire_decided = wire, True
        return self._wire

    @staticmethod
    def timeout() -> float | None:
        """The socket timeouts of the store's connections (``THROTTLE_STORE_TIMEOUT``)."""
        return current().store_timeout

    def connections_for(self, key: str) -> Connections:
        """The connections to the server that holds ``key`` and every key sharing its tag.

        Override it when that server depends on the key; otherwise set ``connections``.
        """
        if self.connections is None:
            raise NotImplementedError(f"{type(self).__qualname__} sets no connections")
        return self.connections

    def script(self, plan: Plan, key: str) -> LuaScript:
        """The plan's script (one object per algorithm, shared by every store)."""
        source = plan.algorithm.source
        script = _scripts.get(source)
        if script is None:
            script = _scripts.setdefault(source, LuaScript(source))
        return script

    batches = True

    def together(self, keys: list[str]) -> bool:
        if self.connections is not None:
            return True
        first = self.connections_for(keys[0])
        return all(self.connections_for(key) is first for key in keys[1:])

    def run(self, tag: str, plan: Plan, now: int | None) -> Result:
        return self.run_keys(plan.keys(tag), plan, now)

    def run_keys(self, keys: list[str], plan: Plan, now: int | None) -> Result:
        wire = self._wire if self._wire_decided else self.wire
        if wire is not None:
            return wire.run_keys(keys, plan, now)
        args = plan.args_server_time if now is None else (str(now).encode(), *plan.args)
        connections = self.connections or self.connections_for(keys[0])
        result: Result = connections.evalsha(self.script(plan, keys[0]), keys, args)
        return result

    async def arun(self, tag: str, plan: Plan, now: int | None) -> Result:
        """``run`` on redis.asyncio (see ``apierrors.ratelimit.aio``); where the connection
        class has no async twin (Sentinel), ``run`` in a worker thread."""
        keys = plan.keys(tag)
        try:
            return await self._aevalsha(keys, plan, now)
        except NoAsyncTwin:
            return await sync_to_async(self.run, thread_sensitive=False)(tag, plan, now)

    async def arun_keys(self, keys: list[str], plan: Plan, now: int | None) -> Result:
        try:
            return await self._aevalsha(keys, plan, now)
        except NoAsyncTwin:
            return await sync_to_async(self.run_keys, thread_sensitive=False)(keys, plan, now)

    async def _aevalsha(self, keys: list[str], plan: Plan, now: int | None) -> Result:
        args = plan.args_server_time if now is None else (str(now).encode(), *plan.args)
        connections = self.connections or self.connections_for(keys[0])
        result: Result = await connections.aevalsha(self.script(plan, keys[0]), keys, args)
        return result


class RedisStore(RedisScriptStore):
    """The Redis store of a django-redis cache (its primary, or a shard's server)."""

    backends = ("django_redis.cache.RedisCache",)

    def __init__(self, alias: str) -> None:
        from django_redis import get_redis_connection
        from django_redis.client import ShardClient

        super().__init__(alias)
        client = caches[alias].client  # type: ignore[attr-defined]
        self._shards: Any = client if isinstance(client, ShardClient) else None
        if self._shards is None:
            primary = get_redis_connection(alias, write=True)
            self.connections = Connections(primary.connection_pool, self.timeout())
        self._by_server: dict[int, Connections] = {}

    def connections_for(self, key: str) -> Connections:
        if self.connections is not None:
            return self.connections
        server = self._shards.get_server(key)
        connections = self._by_server.get(id(server))
        if connections is None:
            connections = self._by_server.setdefault(
                id(server), Connections(server.connection_pool, self.timeout())
            )
        return connections

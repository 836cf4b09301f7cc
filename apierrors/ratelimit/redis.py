"""The Redis store: one Lua script call per check, through django-redis.

Each check is one ``EVALSHA`` of the algorithm's script (registered with redis-py's
``register_script``, which computes its SHA; after ``NOSCRIPT``, e.g. after a restart, a
failover or ``SCRIPT FLUSH``, the script is loaded again and run once more). The script
reads the time from Redis's own ``TIME`` unless the throttle injects a clock, checks every
rate of the throttle and writes only when all allow. The keys of one check share a hash
tag, so that they live on one server:

- ``DefaultClient`` (one server, or a primary with replicas): the primary, from
  ``django_redis.get_redis_connection(alias, write=True)``;
- ``SentinelClient``: the same call gives the primary the sentinels currently name;
- ``ShardClient``: the server that django-redis's hash ring gives the hash tag, which is
  the server its own ``cache.get("...{tag}...")`` would use.

Checks run on connections of the store's own (see ``Connections``). The store declares
redis-py's errors as its own, so ``Store.check`` turns them into ``StoreUnavailable`` and
counts them for the circuit breaker. redis-py and django-redis are imported only when a
store is made: finding the store of another cache never imports them.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.cache import caches

from apierrors.ratelimit.base import Plan, Result, Store

if TYPE_CHECKING:
    from redis import Redis
    from redis.commands.core import Script


class Connections:
    """Connections to one Redis server, kept for the store's own use.

    A check borrows an idle connection (or opens one), runs its script and gives the
    connection back. The connections are made exactly as the django-redis pool makes
    them (its ``connection_class`` and ``connection_kwargs``: address, database,
    password, socket timeouts, Sentinel discovery), but are not borrowed through the
    pool, whose bookkeeping per command (locking, observability hooks and a ``poll``
    for stale data) costs a third of a round trip. A connection that fails is dropped;
    a forked child starts with none of its parent's.
    """

    def __init__(self, client: Redis) -> None:
        from redis import exceptions

        # Named in `except` clauses, which look them up only when an error is raised.
        self.connection_error = exceptions.ConnectionError
        self.response_error = exceptions.ResponseError
        self.noscript_error = exceptions.NoScriptError
        self.pool: Any = client.connection_pool
        self.idle: list[Any] = []
        _all_connections.add(self)

    def open(self) -> Any:
        connection = self.pool.connection_class(**self.pool.connection_kwargs)
        # Explicitly, as the pool does: a Sentinel connection asks for the primary here.
        connection.connect()
        return connection

    def evalsha(self, script: Script, keys: Sequence[str], args: Sequence[bytes]) -> Any:
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
        self, connection: Any, script: Script, keys: Sequence[str], args: Sequence[bytes]
    ) -> Any:
        connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return connection.read_response()
        except self.noscript_error:
            # Scripts are gone after SCRIPT FLUSH, a restart or a failover: load, run again.
            connection.send_command("SCRIPT", "LOAD", script.script)
            sha = connection.read_response()
            script.sha = sha.decode() if isinstance(sha, bytes) else sha
            connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return connection.read_response()

    def forget(self) -> None:
        self.idle = []


_all_connections: weakref.WeakSet[Connections] = weakref.WeakSet()


def _forget_after_fork() -> None:
    # The parent's sockets must not be shared: a child opens its own.
    for connections in list(_all_connections):
        connections.forget()


os.register_at_fork(after_in_child=_forget_after_fork)


class RedisStore(Store):
    """Runs the Lua form of each algorithm on the Redis server behind a django-redis cache."""

    shared = True
    atomic = True
    backends = ("django_redis.cache.RedisCache",)

    def __init__(self, alias: str) -> None:
        from django_redis import get_redis_connection
        from django_redis.client import ShardClient
        from redis.exceptions import RedisError

        super().__init__(alias)
        self.errors = (RedisError, OSError)
        client = caches[alias].client  # type: ignore[attr-defined]
        self._shards: Any = client if isinstance(client, ShardClient) else None
        self._primary: Redis | None = None
        self._single: Connections | None = None
        if self._shards is None:
            self._primary = get_redis_connection(alias, write=True)
            self._single = Connections(self._primary)
        # One plain-TCP server: checks go through the raw connections of wire.py instead.
        from apierrors.ratelimit.wire import WireClient

        self._wire = WireClient.for_pool(self._primary.connection_pool) if self._primary else None
        self._by_server: dict[int, Connections] = {}
        self._scripts: dict[str, Script] = {}

    def client_for(self, key: str) -> Redis:
        """The Redis client of the server that holds ``key`` and every key sharing its tag."""
        if self._primary is not None:
            return self._primary
        server: Redis = self._shards.get_server(key)
        return server

    def connections_for(self, key: str) -> Connections:
        if self._single is not None:
            return self._single
        server = self.client_for(key)
        connections = self._by_server.get(id(server))
        if connections is None:
            connections = self._by_server.setdefault(id(server), Connections(server))
        return connections

    def script(self, plan: Plan, key: str) -> Script:
        script = self._scripts.get(plan.algorithm.name)
        if script is None:
            # The sha is computed locally; the server loads the script on its first NOSCRIPT.
            script = self.client_for(key).register_script(plan.algorithm.source)
            self._scripts[plan.algorithm.name] = script
        return script

    def run(self, tag: str, plan: Plan, now: int | None) -> Result:
        if self._wire is not None:
            return self._wire.run(tag, plan, now)
        keys = plan.keys(tag)
        args = plan.args_server_time if now is None else (str(now).encode(), *plan.args)
        connections = self._single or self.connections_for(keys[0])
        result: Result = connections.evalsha(self.script(plan, keys[0]), keys, args)
        return result

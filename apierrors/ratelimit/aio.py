"""The Redis stores' async connections, on redis.asyncio, one set per event loop.

``Connections.aevalsha`` (``apierrors.ratelimit.redis``) runs a check on the connections
of the running event loop: a redis.asyncio connection is bound to the loop that opened
it, so each loop gets its own ``AsyncConnections``, kept by the loop. A loop that ends
takes its connections with it: they are closed when it shuts down
(``loop.shutdown_asyncgens()``, which ``asyncio.run``, so asgiref's ``async_to_sync``
too, and ASGI servers call before closing a loop; an ``async def`` view served under WSGI
runs on a loop of its own per request), and a loop found closed without that is
forgotten when the next loop makes its own. They are made from the
same redis-py pool settings as the sync connections (address, database, credentials,
TLS), with the same socket timeouts (``THROTTLE_STORE_TIMEOUT``) and no retries, and run
the same scripts: ``EVALSHA``, then ``SCRIPT LOAD`` and ``EVALSHA`` again after
``NOSCRIPT``.

A connection class with no redis.asyncio twin (Sentinel-managed connections ask their
pool's sync sentinels for the primary) has none: ``async_connection_class`` gives
``None`` and the store runs its sync check in a worker thread instead; so does a pool
that sets what its twin cannot do (``async_kwargs``: OCSP validation).
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apierrors.ratelimit.redis import LuaScript

# The redis-py connection classes that have a redis.asyncio class of the same name.
_TWINS = ("SSLConnection", "UnixDomainSocketConnection", "Connection")

# Settings of a sync pool that are sync objects (or set per connection here).
_NOT_COPIED = frozenset(
    {
        "parser_class",
        "retry",
        "retry_on_error",
        "retry_on_timeout",
        "redis_connect_func",
        "connection_pool",
        "event_dispatcher",
        "encoder_class",
        "socket_timeout",
        "socket_connect_timeout",
    }
)


@lru_cache(maxsize=16)
def async_connection_class(sync_class: type) -> type | None:
    """The redis.asyncio connection class for a redis-py one (or a subclass of one)."""
    import redis.asyncio.connection as aconnection
    import redis.connection as sconnection

    # The first of redis-py's own classes decides: a Sentinel-managed connection is a
    # `Connection` too, but one that finds its address through its pool, not its settings.
    for klass in sync_class.__mro__:
        if klass.__module__.split(".")[0] == "redis":
            if klass.__module__ == sconnection.__name__ and klass.__name__ in _TWINS:
                return getattr(aconnection, klass.__name__)  # type: ignore[no-any-return]
            return None
    return None


@lru_cache(maxsize=16)
def _accepted(klass: type) -> frozenset[str]:
    names: set[str] = set()
    for base in klass.__mro__:
        init = base.__dict__.get("__init__")
        if init is not None:
            names.update(inspect.signature(init).parameters)
    return frozenset(names - {"self", "kwargs", "args"})


def async_kwargs(
    klass: type, sync_class: type, kwargs: Mapping[str, Any], timeout: float | None
) -> dict[str, Any] | None:
    """The sync pool's connection settings that ``klass`` (a redis.asyncio class) takes,
    with the store's timeouts and no retries; ``None`` when the pool sets something of
    ``sync_class`` that ``klass`` cannot do (OCSP validation of the server's certificate),
    which dropped would connect on terms the sync check refuses."""
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    accepted = _accepted(klass)
    copied: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name in _NOT_COPIED or name.startswith(("maint", "orig_", "himport")):
            continue
        if name in accepted:
            copied[name] = value
        elif value and name in _accepted(sync_class):
            return None
    copied["socket_timeout"] = copied["socket_connect_timeout"] = timeout
    copied["retry"] = Retry(NoBackoff(), 0)
    return copied


class AsyncConnections:
    """The connections of one event loop to one Redis server (see ``Connections``).

    A check takes an idle connection (or opens one), runs its script and puts it back;
    concurrent checks on the loop each hold their own. A connection that fails is closed.
    ``watch`` closes the idle ones when the loop shuts down.
    """

    def __init__(self, connection_class: type, kwargs: Mapping[str, Any]) -> None:
        from redis import exceptions

        self.connection_error = exceptions.ConnectionError
        self.response_error = exceptions.ResponseError
        self.noscript_error = exceptions.NoScriptError
        self.connection_class: Any = connection_class
        self.kwargs = kwargs
        self.idle: list[Any] = []
        self._watch: AsyncGenerator[None, None] | None = None

    async def watch(self, ended: Callable[[], object]) -> None:
        """Close the idle connections, after calling ``ended``, when the running loop shuts
        down: ``loop.shutdown_asyncgens()`` closes the async generators begun on the loop,
        and this one closes the connections as it ends."""
        self._watch = self._until_shutdown(ended)
        await self._watch.asend(None)

    async def _until_shutdown(self, ended: Callable[[], object]) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            ended()
            idle, self.idle = self.idle, []
            for connection in idle:
                await _close(connection)

    def abandon(self, forked: bool = False) -> None:
        """Drop the connections unclosed, and end the watch here rather than on the loop.

        Either their loop is closed (each socket is closed when collected), or this is a
        forked child (``forked``): its copy of the parent's loop shares the parent's
        epoll instance, and a connection closed through it, as a collected redis.asyncio
        connection closes itself while a loop runs, would unregister the parent's socket
        there, deafening the parent's loop to it. A child closes the sockets itself and
        keeps the connections, never collected.
        """
        idle, self.idle = self.idle, []
        if forked:
            for connection in idle:
                _close_in_child(connection)
        watch, self._watch = self._watch, None
        if watch is not None:
            with contextlib.suppress(StopIteration):
                watch.aclose().send(None)

    async def open(self) -> Any:
        connection = self.connection_class(**self.kwargs)
        await connection.connect()
        return connection

    async def evalsha(self, script: LuaScript, keys: Sequence[str], args: Sequence[bytes]) -> Any:
        """As ``Connections.evalsha``: a stale idle connection is replaced once."""
        connection = self.idle.pop() if self.idle else await self.open()
        for retry in (False, True):
            try:
                reply = await self._evalsha(connection, script, keys, args)
            except self.response_error:
                self.idle.append(connection)
                raise
            except self.connection_error:
                await _close(connection)
                if retry:
                    raise
                connection = await self.open()
                continue
            except BaseException:
                # A timeout, or the task cancelled mid-reply: the reply may still come.
                await _close(connection)
                raise
            self.idle.append(connection)
            return reply
        raise AssertionError("unreachable")

    async def _evalsha(
        self, connection: Any, script: LuaScript, keys: Sequence[str], args: Sequence[bytes]
    ) -> Any:
        await connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return await connection.read_response()
        except self.noscript_error:
            await connection.send_command("SCRIPT", "LOAD", script.script)
            await connection.read_response()
            await connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return await connection.read_response()


# The parent's connections a forked child dropped (see ``AsyncConnections.abandon``).
_orphans: list[Any] = []


def _close_in_child(connection: Any) -> None:
    writer = getattr(connection, "_writer", None)
    sock = None if writer is None else writer.get_extra_info("socket")
    if sock is not None:
        # The file descriptor only: the parent's socket stays open, and its loop's.
        with contextlib.suppress(OSError):
            os.close(sock.fileno())
    _orphans.append(connection)


async def _close(connection: Any) -> None:
    try:
        await connection.disconnect(nowait=True)
    except Exception:  # closing a broken socket: nothing left to do
        return

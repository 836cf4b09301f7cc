"""The atomic blocks already open when a request begins, found without scanning.

``APIErrorsMiddleware`` records how many atomic blocks each database connection has open
when a request begins (a test's transaction, a caller's block), so that the handler marks
for rollback only the blocks the request opened itself. ``connections.all(initialized_only=
True)`` answers that, but costs about five microseconds in a sync thread (two lookups per
alias in asgiref's ``Local``, each raising and catching two exceptions), on every request,
to find nothing open in production.

So each thread keeps the connection objects it has, by alias: those of
``connections.all(initialized_only=True)`` on its first request, and then every one that
connects in it (Django's ``connection_created`` signal). A block can only be open on a
connection that has connected, so a connection that is not kept has none open. Another
object connecting under a kept alias (``connection.copy()``, a replacement) may or may not
be the one ``connections`` holds for it: the thread then forgets what it keeps, and its
next request scans again. When a kept connection has a block open (tests), or under a
running event loop (whose connections are per task, not per thread), the public scan
decides.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

_thread = threading.local()


def _kept(sender: Any, connection: Any, **kwargs: Any) -> None:
    known: dict[str, Any] | None = getattr(_thread, "connections", None)
    if known is not None and known.setdefault(connection.alias, connection) is not connection:
        forget()


connection_created.connect(_kept, dispatch_uid="apierrors.transactions.kept")


def scan() -> dict[str, int]:
    """How many atomic blocks each initialized connection has open, those with some."""
    return {
        connection.alias: len(connection.atomic_blocks)
        for connection in connections.all(initialized_only=True)
        if connection.atomic_blocks
    }


def open_blocks() -> dict[str, int]:
    """``scan()``, from the connections this thread keeps when none has a block open."""
    if asyncio._get_running_loop() is not None:
        return scan()
    known: dict[str, Any] | None = getattr(_thread, "connections", None)
    if known is None:
        known = _thread.connections = {
            connection.alias: connection for connection in connections.all(initialized_only=True)
        }
    for connection in known.values():
        if connection.atomic_blocks:
            return scan()
    return {}


def forget() -> None:
    """Drop this thread's kept connections (the next request scans again)."""
    _thread.__dict__.pop("connections", None)

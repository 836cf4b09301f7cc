"""A minimal Redis connection for the throttle's one command: ``EVALSHA`` on a raw socket.

A check is one ``EVALSHA`` whose bytes are nearly the same every time: the script's SHA,
the key count and the policy arguments never change for a plan, only the client's keys and
``now`` do. ``WireClient`` builds those bytes once per plan, splices the keys in, sends
them on a socket of its own (one per thread, made again in a forked child) and reads the
reply with hiredis' ``Reader``. Nothing else runs per check: no pool, no command packer,
no response callbacks. It saves most of what redis-py adds over a bare round trip.

``WireClient.for_pool`` makes one for a redis-py connection pool whose connections are
plain TCP ones without a credential provider, and gives ``None`` otherwise (TLS, a Unix
socket, Sentinel, no hiredis): the store then keeps redis-py's path.

Timeouts are the pool's: ``socket_connect_timeout`` for connecting, ``socket_timeout`` for
each send and read. On Linux the socket stays blocking and the kernel enforces the
timeout (``SO_RCVTIMEO``/``SO_SNDTIMEO``), which spares a ``poll`` per call. Failures are
raised as redis-py's errors (``ConnectionError``, ``TimeoutError``, ``ResponseError``),
the store's declared errors, so ``Store.check`` counts them for the circuit breaker.
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import sys
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from redis import exceptions

from apierrors.ratelimit.base import Plan, Result

if TYPE_CHECKING:
    from redis import ConnectionPool

try:
    import hiredis
except ImportError:  # pragma: no cover - hiredis is an optional speed-up
    hiredis = None  # type: ignore[assignment]

# Where the kernel can time out a blocking socket's calls (see the module's docstring).
_KERNEL_TIMEOUTS = sys.platform == "linux"


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


class _Socket:
    """One connection: the socket and the reader of its replies."""

    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = hiredis.Reader(replyError=exceptions.ResponseError)


class WireClient:
    """Runs the algorithms' scripts on one Redis server, one raw connection per thread.

    ``run(tag, plan, now)`` is ``RedisStore.run`` for a single server: it returns the
    script's reply (the algorithm's flat result) or raises redis-py's errors.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        connect_timeout: float | None = None,
        timeout: float | None = None,
    ) -> None:
        self.address = (host, port)
        self.db = db
        self.username = username
        self.password = password
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.local = threading.local()
        # Per plan: the command's bytes before the keys, and after them (with the server's
        # clock, and after a caller's `now`). Plans are few (one per throttle configuration).
        self._encoded: dict[Plan, tuple[bytes, bytes, bytes]] = {}
        self._lock = threading.Lock()
        _clients.add(self)

    @classmethod
    def for_pool(cls, pool: ConnectionPool) -> WireClient | None:
        """A client with the connection settings of ``pool``, or ``None`` where it cannot."""
        return cls.for_connection_settings(pool.connection_class, pool.connection_kwargs)

    @classmethod
    def for_connection_settings(
        cls, connection_class: type, kwargs: Mapping[str, Any]
    ) -> WireClient | None:
        """A client for redis-py connections of ``connection_class`` made with ``kwargs``
        (plain TCP only), or ``None`` where it cannot serve them."""
        from redis.connection import Connection

        # hiredis is None where it is not installed (the import above), which mypy cannot see.
        if (
            hiredis is None  # type: ignore[redundant-expr]
            or connection_class is not Connection
            or kwargs.get("credential_provider") is not None
            or kwargs.get("protocol") not in (None, 2, "2")
        ):
            return None
        return cls(
            kwargs.get("host", "localhost"),
            int(kwargs.get("port", 6379)),
            db=int(kwargs.get("db", 0) or 0),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            connect_timeout=kwargs.get("socket_connect_timeout"),
            timeout=kwargs.get("socket_timeout"),
        )

    # --- the check -----------------------------------------------------------------------

    def run(self, tag: str, plan: Plan, now: int | None) -> Result:
        return self.run_keys(plan.keys(tag), plan, now)

    def run_keys(self, names: list[str], plan: Plan, now: int | None) -> Result:
        """``run`` on ``names``, one key per policy of ``plan`` (a combined plan's keys)."""
        try:
            head, tail_server, tail = self._encoded[plan]
        except KeyError:
            head, tail_server, tail = self._encode(plan)
        if len(names) == 1:  # one throttle of one rate, the usual case
            key = names[0].encode()
            keys = b"$%d\r\n%s\r\n" % (len(key), key)
        else:
            keys = b"".join([_bulk(key.encode()) for key in names])
        if now is None:
            command = head + keys + tail_server
        else:
            command = b"%s%s%s%s" % (head, keys, _bulk(b"%d" % now), tail)
        reply = self.call(command)
        if type(reply) is list:
            return reply
        if isinstance(reply, exceptions.ResponseError) and str(reply).startswith("NOSCRIPT"):
            # Scripts are gone after SCRIPT FLUSH, a restart or a failover: load, run again.
            self.check_reply(
                self.call(
                    b"*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n" + _bulk(plan.algorithm.source.encode())
                )
            )
            reply = self.call(command)
            if type(reply) is list:
                return reply
        self.check_reply(reply)
        raise exceptions.ResponseError(f"unexpected reply to EVALSHA: {reply!r}")

    def _encode(self, plan: Plan) -> tuple[bytes, bytes, bytes]:
        source = plan.algorithm.source.encode()
        sha = hashlib.sha1(source, usedforsecurity=False).hexdigest().encode()
        count = len(plan.policies)
        args = b"".join([_bulk(arg) for arg in plan.args])
        head = b"*%d\r\n$7\r\nEVALSHA\r\n%s%s" % (
            3 + count + 1 + len(plan.args),
            _bulk(sha),
            _bulk(b"%d" % count),
        )
        encoded = (head, b"$0\r\n\r\n" + args, args)
        with self._lock:
            if len(self._encoded) >= 1024:
                self._encoded.clear()
            self._encoded[plan] = encoded
        return encoded

    @staticmethod
    def check_reply(reply: Any) -> Any:
        if isinstance(reply, exceptions.ResponseError):
            raise reply
        return reply

    # --- the connection ------------------------------------------------------------------

    def call(self, command: bytes) -> Any:
        """Send ``command`` and read one reply (an error reply is returned, not raised).

        A connection that fails is closed (``_roundtrip``); one that was reused after
        sitting idle is tried once more on a new connection (the server may have closed it
        meanwhile). Timeouts are not retried, so an unresponsive server costs one timeout.
        """
        conn: _Socket | None = getattr(self.local, "conn", None)
        fresh = conn is None
        if conn is None:
            conn = self.connect()
        try:
            return self._roundtrip(conn, command)
        except exceptions.ConnectionError:
            if fresh:
                raise
        return self._roundtrip(self.connect(), command)

    def _roundtrip(self, conn: _Socket, command: bytes) -> Any:
        """Send ``command`` on ``conn`` and read its reply. A round trip that does not end
        with the reply (an error, a timeout, an exception raised by a signal handler)
        closes the connection: the reply may still come, and would answer the next."""
        sock, reader = conn.sock, conn.reader
        try:
            sock.sendall(command)
            while True:
                data = sock.recv(65536)
                if not data:
                    raise exceptions.ConnectionError("Connection closed by server.")
                reader.feed(data)
                reply = reader.gets()
                if reply is not False:
                    return reply
        except (TimeoutError, BlockingIOError) as exc:
            self.drop(conn)
            raise exceptions.TimeoutError(f"Timeout reading from {self._where()}") from exc
        except OSError as exc:
            self.drop(conn)
            raise exceptions.ConnectionError(
                f"Error {exc.errno} while talking to {self._where()}. {exc.strerror}"
            ) from exc
        except hiredis.ProtocolError as exc:
            self.drop(conn)
            raise exceptions.ConnectionError(f"Protocol error from {self._where()}: {exc}") from exc
        except BaseException:
            self.drop(conn)
            raise

    def connect(self) -> _Socket:
        """A new connection for this thread: connected, authenticated, database selected."""
        try:
            sock = socket.create_connection(self.address, timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise exceptions.TimeoutError(f"Timeout connecting to {self._where()}") from exc
        except OSError as exc:
            raise exceptions.ConnectionError(
                f"Error {exc.errno} connecting to {self._where()}. {exc.strerror}"
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        timeout = self.timeout
        if timeout is not None and _KERNEL_TIMEOUTS:
            sock.settimeout(None)
            seconds = int(timeout)
            value = struct.pack("ll", seconds, int((timeout - seconds) * 1_000_000))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
        else:
            sock.settimeout(timeout)
        conn = _Socket(sock)
        try:
            if self.password is not None:
                auth = [b"AUTH"]
                if self.username is not None:
                    auth.append(self.username.encode())
                auth.append(self.password.encode())
                self.check_reply(self._roundtrip(conn, _command(auth)))
            if self.db:
                self.check_reply(self._roundtrip(conn, _command([b"SELECT", b"%d" % self.db])))
        except BaseException:
            sock.close()
            raise
        self.local.conn = conn
        return conn

    def drop(self, conn: _Socket) -> None:
        if getattr(self.local, "conn", None) is conn:
            del self.local.conn
        conn.sock.close()

    def forget(self) -> None:
        """Forget every connection (in a forked child: the parent's are not ours)."""
        self.local = threading.local()

    def _where(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"


def _command(parts: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(parts) + b"".join([_bulk(part) for part in parts])


_clients: weakref.WeakSet[WireClient] = weakref.WeakSet()


def _forget_after_fork() -> None:
    for client in list(_clients):
        client.forget()


os.register_at_fork(after_in_child=_forget_after_fork)

"""Redis stores named by URI (``APIERRORS["THROTTLE_STORE"]``, a throttle's ``store``).

The URIs are those of the ``limits`` library:

- ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS) and
  ``unix://[[user]:password@]/path/to/socket?db=0``, as redis-py's ``from_url`` reads
  them, query options included (``?ssl_cert_reqs=none``...);
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service_name[/db]``:
  the sentinels to ask (port 26379 by default) and the service whose primary holds the
  state; the password is the primary's, the sentinels are asked without one.

Either way the checks run on the primary, on connections of the store's own with the
socket timeouts of ``THROTTLE_STORE_TIMEOUT``. Nothing connects while a store is made: a
host that does not answer is a ``StoreUnavailable`` at the first check.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from apierrors.ratelimit.redis import Connections, RedisScriptStore
from apierrors.ratelimit.uri import host_port, redact, split_credentials

SENTINEL_PORT = 26379


class RedisURIStore(RedisScriptStore):
    """The Redis server of a ``redis://``, ``rediss://`` or ``unix://`` URI."""

    schemes = ("redis", "rediss", "unix")

    def __init__(self, uri: str) -> None:
        from redis import ConnectionPool

        super().__init__(redact(uri))
        self.connections = Connections(ConnectionPool.from_url(uri), self.timeout())

    @classmethod
    def from_uri(cls, uri: str) -> RedisURIStore:
        return cls(uri)


class RedisSentinelStore(RedisScriptStore):
    """The primary that Redis Sentinel names for a ``redis+sentinel://`` URI's service."""

    schemes = ("redis+sentinel",)

    def __init__(self, uri: str) -> None:
        from redis.backoff import NoBackoff
        from redis.retry import Retry
        from redis.sentinel import Sentinel

        super().__init__(redact(uri))
        sentinels, service, options = parse_sentinel_uri(uri)
        timeout = self.timeout()
        # Asking a sentinel is bounded as a check is: one timeout, no retries.
        ask: dict[str, Any] = {"retry": Retry(NoBackoff(), 0)}
        if timeout is not None:
            ask["socket_timeout"] = ask["socket_connect_timeout"] = timeout
        sentinel = Sentinel(sentinels, sentinel_kwargs=ask)  # type: ignore[no-untyped-call]
        primary = sentinel.master_for(service, **options)  # type: ignore[no-untyped-call]
        self.connections = Connections(primary.connection_pool, timeout)

    @classmethod
    def from_uri(cls, uri: str) -> RedisSentinelStore:
        return cls(uri)


def parse_sentinel_uri(uri: str) -> tuple[list[tuple[str, int]], str, dict[str, Any]]:
    """``(sentinels, service name, connection options)`` of a ``redis+sentinel://`` URI;
    raises ``ValueError`` (without the password) for one that does not parse."""
    rest = uri.split("://", 1)[1].split("?", 1)[0]
    netloc, _, path = rest.partition("/")
    options, hosts = split_credentials(netloc)
    no_host, bad_port = "a sentinel without a host", "a sentinel port must be a number"
    sentinels = [
        host_port(part, SENTINEL_PORT, no_host, bad_port) for part in hosts.split(",") if part
    ]
    if not sentinels:
        raise ValueError(f"{redact(uri)}: name at least one sentinel, host:port")
    parts = [part for part in path.split("/") if part]
    if not parts or len(parts) > 2:
        raise ValueError(f"{redact(uri)}: the path must be /service_name or /service_name/db")
    if len(parts) == 2:
        if not parts[1].isdigit():
            raise ValueError(f"{redact(uri)}: the database must be a number")
        options["db"] = int(parts[1])
    return sentinels, unquote(parts[0]), options

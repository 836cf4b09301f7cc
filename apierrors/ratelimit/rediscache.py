"""The Redis store of Django's own cache backend, ``django.core.cache.backends.redis.RedisCache``.

Django's backend writes to the first server of its ``LOCATION`` and reads from the others
(its ``RedisCacheClient.get_client(write=True)`` picks index 0), so the store runs every
check on the first server: a replica would answer ``READONLY``, and a read from one could
be stale. The checks run on connections of the store's own, made from that server's URL
and the cache's ``OPTIONS`` (password, database, TLS, parser) with the socket timeouts of
``THROTTLE_STORE_TIMEOUT``: the cache may set none, and a frozen Redis must not hold a
request.
"""

from __future__ import annotations

from django.core.cache import caches

from apierrors.ratelimit.redis import Connections, RedisScriptStore


class RedisCacheStore(RedisScriptStore):
    """Runs the Lua scripts on the primary (first) server of a Django ``RedisCache``."""

    backends = ("django.core.cache.backends.redis.RedisCache",)

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        client = caches[alias]._cache.get_client(write=True)  # type: ignore[attr-defined]
        self.connections = Connections(client.connection_pool, self.timeout())

"""Which alias of ``CACHES`` a cache object is: DRF's ``cache = caches["x"]`` on a throttle."""

from __future__ import annotations

from django.core.cache import InvalidCacheBackendError, caches
from django.utils.connection import ConnectionProxy

__all__ = ["cache_alias_of"]

# id(cache object) -> (the object, its alias in CACHES); the object is kept so the id stays its.
_cache_aliases: dict[int, tuple[object, str]] = {}


def cache_alias_of(cache: object) -> str | None:
    """The alias in ``CACHES`` of a cache object (``caches["x"]``, or ``django.core.cache.cache``).

    ``caches[alias]`` gives each thread its own object, so an object is recognised in the
    thread that made it; throttle classes that set ``cache`` are looked up when they are
    defined, in that thread, and remembered. ``None`` when no alias gives the object.
    """
    known = _cache_aliases.get(id(cache))
    if known is not None and known[0] is cache:
        return known[1]
    found: str | None = None
    if isinstance(cache, ConnectionProxy):
        found = str(cache._alias)
    else:
        for alias in caches:
            try:
                if caches[alias] is cache:
                    found = alias
                    break
            except (InvalidCacheBackendError, ImportError):
                continue
    if found is not None:
        _cache_aliases[id(cache)] = (cache, found)
    return found

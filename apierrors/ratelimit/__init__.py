"""Rate-limit algorithms and stores behind ``apierrors.throttling``.

``get_store(name)`` gives the store for a cache alias or a URI (a name with ``"://"``):

- an alias: the first registered store class (``STORE_CLASSES``, ``register_store``) whose
  ``backends`` name the cache's backend: ``RedisStore`` for django-redis,
  ``RedisCacheStore`` for Django's own ``RedisCache``, ``MemoryStore`` (in-process) for
  any other;
- a URI: the first registered store class whose ``schemes`` name the URI's scheme, made
  by its ``from_uri``: ``RedisURIStore`` (``redis``, ``rediss``, ``unix``),
  ``RedisSentinelStore`` (``redis+sentinel``), ``RedisClusterStore`` (``redis+cluster``,
  also django-valkey's cluster cache), and whatever else is registered.

Stores are made once per process and name, and made again when ``CACHES`` or
``THROTTLE_STORE_TIMEOUT`` changes (``override_settings``, pytest-django's ``settings``
fixture) or a store is registered. A store that cannot be made (a URI that does not
parse, a scheme no class serves, a driver that does not import) is stood in for by an
``UnmadeStore``: every check fails with ``StoreUnavailable`` (``FAIL_OPEN`` decides), and
making it is tried again after a backoff, not on every request.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from apierrors.ratelimit.base import Decision, Plan, Result, Store, StoreUnavailable, plan_for
from apierrors.ratelimit.config import current
from apierrors.ratelimit.rates import Rate, RateError, parse_rate
from apierrors.ratelimit.unmade import UnmadeStore
from apierrors.ratelimit.uri import is_uri, scheme

__all__ = [
    "STORE_CLASSES",
    "Decision",
    "Plan",
    "Rate",
    "RateError",
    "Result",
    "Store",
    "StoreUnavailable",
    "get_store",
    "parse_rate",
    "plan_for",
    "register_store",
    "store_class_for",
    "store_class_for_uri",
    "store_classes",
]

_stores: dict[str, Store] = {}
_lock = threading.Lock()


_timeout_in_use: list[float | None] = []


def get_store(name: str) -> Store:
    """The store for the cache alias or URI ``name`` (one per process)."""
    try:
        return _stores[name]
    except KeyError:
        pass
    with _lock:
        if name not in _stores:
            _timeout_in_use[:] = [current().store_timeout]
            try:
                _stores[name] = make_store(name)
            except Exception as exc:  # configuration: never a 500, tried again later
                _stores[name] = UnmadeStore(name, make_store, exc, _replace)
        return _stores[name]


def _replace(name: str, store: Store) -> None:
    with _lock:
        _stores[name] = store


# The registry: store classes (or their dotted paths), most specific first. Store modules
# import their driver only when a store is made, so resolving every entry stays cheap and
# imports no optional extra (redis-py) a project does not use.
STORE_CLASSES: list[str | type[Store]] = [
    "apierrors.ratelimit.redis.RedisStore",
    "apierrors.ratelimit.rediscache.RedisCacheStore",
    "apierrors.ratelimit.redis_uri.RedisURIStore",
    "apierrors.ratelimit.redis_uri.RedisSentinelStore",
    "apierrors.ratelimit.cluster.RedisClusterStore",
    "apierrors.ratelimit.memory.MemoryStore",
]


def register_store(store: str | type[Store]) -> None:
    """Make a store class known (itself or its dotted path), ahead of those known before.

    The class serves the caches whose backend it names in ``backends`` and the URIs whose
    scheme it names in ``schemes``; a store already made is made again.
    """
    if isinstance(store, type) and not issubclass(store, Store):
        raise TypeError(f"{store.__qualname__} is not a subclass of Store.")
    if store not in STORE_CLASSES:
        STORE_CLASSES.insert(0, store)
        with _lock:
            _stores.clear()


def store_classes() -> list[type[Store]]:
    """The registered store classes, most specific first."""
    return [entry if isinstance(entry, type) else import_string(entry) for entry in STORE_CLASSES]


def store_class_for(alias: str) -> type[Store]:
    """The store class that serves the cache ``alias``: the first whose ``backends`` match."""
    return store_class_for_backend(type(caches[alias]), alias)


def store_class_for_backend(backend: type, alias: str = "") -> type[Store]:
    """The store class that serves caches of the ``backend`` class."""
    served = {f"{klass.__module__}.{klass.__qualname__}" for klass in backend.__mro__}
    for klass in store_classes():
        if served.intersection(klass.backends):
            return klass
    raise LookupError(f"No rate-limit store serves the cache {alias or backend.__name__!r}.")


def store_class_for_uri(uri: str) -> type[Store]:
    """The store class that serves ``uri``: the first whose ``schemes`` name its scheme."""
    wanted = scheme(uri)
    for klass in store_classes():
        if wanted in klass.schemes:
            return klass
    raise LookupError(f"No rate-limit store serves the URI scheme {wanted!r}.")


def known_schemes() -> list[str]:
    """Every URI scheme a registered store class serves."""
    return sorted({name for klass in store_classes() for name in klass.schemes})


def make_store(name: str) -> Store:
    if is_uri(name):
        return store_class_for_uri(name).from_uri(name)
    return store_class_for(name)(name)


def reset_stores(**kwargs: Any) -> None:
    """Forget every store (their connections, circuit breakers and outage logs)."""
    setting = kwargs.get("setting", "CACHES")
    if setting == "APIERRORS":
        if not _timeout_in_use or current().store_timeout == _timeout_in_use[0]:
            return
    elif setting != "CACHES":
        return
    with _lock:
        _stores.clear()


setting_changed.connect(reset_stores, dispatch_uid="apierrors.ratelimit.reset_stores")

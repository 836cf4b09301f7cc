"""Rate-limit algorithms and stores behind ``apierrors.throttling``.

``get_store(alias)`` gives the store for a cache alias: ``RedisStore`` for a django-redis
cache, ``MemoryStore`` (in-process) for any other. Stores are made once per process and
alias, and made again when ``CACHES`` changes (``override_settings``, pytest-django's
``settings`` fixture).
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches
from django.core.signals import setting_changed

from apierrors.ratelimit.base import Plan, Result, Store, StoreUnavailable, plan_for
from apierrors.ratelimit.rates import Rate, RateError, parse_rate

__all__ = [
    "STORE_CLASSES",
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
]

_stores: dict[str, Store] = {}
_lock = threading.Lock()


def get_store(alias: str) -> Store:
    """The store for the cache ``alias`` (one per process)."""
    try:
        return _stores[alias]
    except KeyError:
        pass
    with _lock:
        if alias not in _stores:
            _stores[alias] = make_store(alias)
        return _stores[alias]


# The registry: store classes by dotted path, most specific first. A store module is imported
# only when a cache it serves is in use, so optional extras (redis-py) stay optional.
STORE_CLASSES: list[str] = [
    "apierrors.ratelimit.redis.RedisStore",
    "apierrors.ratelimit.memory.MemoryStore",
]


def register_store(path: str) -> None:
    """Add a store class (by dotted path) ahead of the built-in ones."""
    if path not in STORE_CLASSES:
        STORE_CLASSES.insert(0, path)
        with _lock:
            _stores.clear()


def _backend_classes(backend: type) -> set[str]:
    return {f"{klass.__module__}.{klass.__qualname__}" for klass in backend.__mro__}


def store_class_for(alias: str) -> type[Store]:
    """The store class that serves the cache ``alias``: the first whose ``backends`` match."""
    from django.utils.module_loading import import_string

    served = _backend_classes(type(caches[alias]))
    for path in STORE_CLASSES:
        module, _, name = path.rpartition(".")
        # The class names what it serves; its module (and its extra) loads only on a match.
        klass: type[Store] | None = import_string(path) if _declares(module, served) else None
        if klass is not None and served.intersection(klass.backends):
            return klass
    raise LookupError(f"No rate-limit store serves the cache {alias!r}.")


def _declares(module: str, served: set[str]) -> bool:
    """Whether importing ``module`` can be needed: built-in stores name their backend first."""
    if module == "apierrors.ratelimit.redis":
        return "django_redis.cache.RedisCache" in served
    return True


def make_store(alias: str) -> Store:
    return store_class_for(alias)(alias)


def reset_stores(**kwargs: Any) -> None:
    """Forget every store (their clients, circuit breakers and outage logs)."""
    if kwargs.get("setting", "CACHES") == "CACHES":
        with _lock:
            _stores.clear()


setting_changed.connect(reset_stores, dispatch_uid="apierrors.ratelimit.reset_stores")

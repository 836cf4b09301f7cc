"""Rate-limit algorithms and stores behind ``apierrors.throttling``.

``get_store(alias)`` gives the store for a cache alias: the first registered store class
that serves the cache's backend (``STORE_CLASSES``, ``register_store``), by default
``RedisStore`` for a django-redis cache and ``MemoryStore`` (in-process) for any other.
Stores are made once per process and alias, and made again when ``CACHES`` changes
(``override_settings``, pytest-django's ``settings`` fixture) or a store is registered.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from apierrors.ratelimit.base import Decision, Plan, Result, Store, StoreUnavailable, plan_for
from apierrors.ratelimit.rates import Rate, RateError, parse_rate

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
    "store_classes",
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


# The registry: store classes (or their dotted paths), most specific first. Store modules
# import their driver only when a store is made, so resolving every entry stays cheap and
# imports no optional extra (redis-py) a project does not use.
STORE_CLASSES: list[str | type[Store]] = [
    "apierrors.ratelimit.redis.RedisStore",
    "apierrors.ratelimit.memory.MemoryStore",
]


def register_store(store: str | type[Store]) -> None:
    """Make a store class known (itself or its dotted path), ahead of those known before.

    The class serves the caches whose backend it names in ``backends``; a store already
    made for an alias is made again.
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
    served = {f"{klass.__module__}.{klass.__qualname__}" for klass in type(caches[alias]).__mro__}
    for klass in store_classes():
        if served.intersection(klass.backends):
            return klass
    raise LookupError(f"No rate-limit store serves the cache {alias!r}.")


def make_store(alias: str) -> Store:
    return store_class_for(alias)(alias)


def reset_stores(**kwargs: Any) -> None:
    """Forget every store (their clients, circuit breakers and outage logs)."""
    if kwargs.get("setting", "CACHES") == "CACHES":
        with _lock:
            _stores.clear()


setting_changed.connect(reset_stores, dispatch_uid="apierrors.ratelimit.reset_stores")

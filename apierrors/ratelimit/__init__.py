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
    "Plan",
    "Rate",
    "RateError",
    "Result",
    "Store",
    "StoreUnavailable",
    "get_store",
    "parse_rate",
    "plan_for",
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


def is_django_redis(backend: object) -> bool:
    try:
        from django_redis.cache import RedisCache
    except ImportError:  # the redis extra is not installed
        return False
    return isinstance(backend, RedisCache)


def make_store(alias: str) -> Store:
    # redis-py is imported only for a django-redis cache: it is an optional extra.
    if is_django_redis(caches[alias]):
        from apierrors.ratelimit.redis import RedisStore

        return RedisStore(alias)
    from apierrors.ratelimit.memory import MemoryStore

    return MemoryStore(alias)


def reset_stores(**kwargs: Any) -> None:
    """Forget every store (their clients, circuit breakers and outage logs)."""
    if kwargs.get("setting", "CACHES") == "CACHES":
        with _lock:
            _stores.clear()


setting_changed.connect(reset_stores, dispatch_uid="apierrors.ratelimit.reset_stores")

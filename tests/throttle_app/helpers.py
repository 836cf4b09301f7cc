"""Helpers of the throttling tests: caches and rates in settings."""

from __future__ import annotations

import itertools
from typing import Any

_aliases = itertools.count()


def next_alias() -> int:
    return next(_aliases)


REDIS_OPTIONS = {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25}


def redis_cache(location: str | list[str], **options: Any) -> dict[str, Any]:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "OPTIONS": {**REDIS_OPTIONS, **options},
    }


def use_cache(settings: Any, config: dict[str, Any], **apierrors: Any) -> str:
    """Add ``config`` under a fresh alias and make it the throttles' cache."""
    alias = f"throttle{next(_aliases)}"
    settings.CACHES = {**settings.CACHES, alias: config}
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_CACHE": alias, **apierrors}
    return alias


def set_rates(settings: Any, **rates: str | list[str] | None) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def evalsha_calls(url: str) -> int:
    """How many ``EVALSHA`` the Redis at ``url`` has run (its round trips for checks)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))
    finally:
        client.close()

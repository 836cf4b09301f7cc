"""The throttling settings, read once and kept until a setting changes.

A throttle check is a few microseconds of Python around one Redis round trip, so reading
``APIERRORS`` key by key on every request is a measurable share of it. ``current()`` reads
every key of the "Throttling" section of ``apierrors.conf.SETTINGS`` through ``conf`` once
and keeps them until Django's ``setting_changed`` signal (sent by ``override_settings`` and
pytest-django's ``settings`` fixture) says ``APIERRORS`` changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed

from apierrors.conf import conf


@dataclass(frozen=True)
class ThrottleSettings:
    cache: str
    store: str | None
    store_timeout: float | None
    algorithm: str
    prefix: str
    fail_open: bool
    num_proxies: int | None
    ipv6_prefix: int
    headers: bool
    ietf_headers: bool
    outage_log_interval: float
    breaker_failures: int
    breaker_cooldown: float
    remember_denials: bool


FIELDS: dict[str, str] = {
    "cache": "THROTTLE_CACHE",
    "store": "THROTTLE_STORE",
    "store_timeout": "THROTTLE_STORE_TIMEOUT",
    "algorithm": "THROTTLE_ALGORITHM",
    "prefix": "THROTTLE_KEY_PREFIX",
    "fail_open": "FAIL_OPEN",
    "num_proxies": "NUM_PROXIES",
    "ipv6_prefix": "IPV6_PREFIX",
    "headers": "RATELIMIT_HEADERS",
    "ietf_headers": "IETF_RATELIMIT_HEADERS",
    "outage_log_interval": "OUTAGE_LOG_INTERVAL",
    "breaker_failures": "BREAKER_FAILURES",
    "breaker_cooldown": "BREAKER_COOLDOWN",
    "remember_denials": "REMEMBER_DENIALS",
}
"""Each field and the ``APIERRORS`` key it holds (read through ``conf``'s typed property)."""

_current: ThrottleSettings | None = None


def current() -> ThrottleSettings:
    global _current
    value = _current
    if value is None:
        value = _current = ThrottleSettings(
            **{field: getattr(conf, key) for field, key in FIELDS.items()}
        )
    return value


def forget(**kwargs: Any) -> None:
    global _current
    if kwargs.get("setting", "APIERRORS") == "APIERRORS":
        _current = None


setting_changed.connect(forget, dispatch_uid="apierrors.ratelimit.config.forget")

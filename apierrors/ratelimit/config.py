"""The throttling settings, read once and kept until a setting changes.

A throttle check is a few microseconds of Python around one Redis round trip, so reading
``APIERRORS`` key by key on every request is a measurable share of it. ``current()`` reads
the keys through ``apierrors.conf`` once and keeps them until Django's ``setting_changed``
signal (sent by ``override_settings`` and pytest-django's ``settings`` fixture) says
``APIERRORS`` changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed

from apierrors.conf import conf


@dataclass(frozen=True)
class ThrottleSettings:
    cache: str
    algorithm: str
    prefix: str
    headers: bool
    ietf_headers: bool
    num_proxies: int | None
    ipv6_prefix: int


_current: ThrottleSettings | None = None


def current() -> ThrottleSettings:
    global _current
    value = _current
    if value is None:
        value = _current = ThrottleSettings(
            cache=conf.THROTTLE_CACHE,
            algorithm=conf.THROTTLE_ALGORITHM,
            prefix=conf.THROTTLE_KEY_PREFIX,
            headers=conf.RATELIMIT_HEADERS,
            ietf_headers=conf.IETF_RATELIMIT_HEADERS,
            num_proxies=conf.NUM_PROXIES,
            ipv6_prefix=conf.IPV6_PREFIX,
        )
    return value


def forget(**kwargs: Any) -> None:
    global _current
    if kwargs.get("setting", "APIERRORS") == "APIERRORS":
        _current = None


setting_changed.connect(forget, dispatch_uid="apierrors.ratelimit.config.forget")

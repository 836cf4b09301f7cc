"""What DRF's throttle idioms need from apierrors' throttles, kept apart from them.

DRF's ``SimpleRateThrottle`` reads its rates from a ``THROTTLE_RATES`` class attribute, lets
subclasses parse rates their own way (``parse_rate`` returning ``(count, seconds)``) and
takes a cache object (``cache = caches["x"]``). ``apierrors.throttling`` honours each; the
pieces below turn them into what the throttles work with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings

from apierrors.ratelimit.aliases import cache_alias_of
from apierrors.ratelimit.rates import MAX_LIMIT, MAX_PERIOD


class SettingsRates:
    """``THROTTLE_RATES`` until a subclass declares its own: ``DEFAULT_THROTTLE_RATES``,
    read on every access (DRF copies the setting at import, so overrides miss it: #6030)."""

    def __get__(self, instance: object, owner: type | None = None) -> Mapping[str, Any]:
        rates: Mapping[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        return rates


def rate_from_drf(parsed: object, source: str) -> str:
    """What an overridden ``parse_rate`` returned (``source`` names the call), written as
    apierrors' rate; ``ImproperlyConfigured`` unless it is a count and whole seconds that
    a rate may hold (``MAX_LIMIT``, ``MAX_PERIOD``)."""
    count: object = None
    seconds: object = None
    try:
        count, seconds = parsed  # type: ignore[misc]
        valid = all(
            isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= most
            for value, most in ((count, MAX_LIMIT), (seconds, MAX_PERIOD))
        )
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ImproperlyConfigured(
            f"{source} returned {parsed!r}; it must be (num_requests, duration), a count "
            f"from 1 to {MAX_LIMIT} and whole seconds from 1 to {MAX_PERIOD} "
            f"({MAX_PERIOD // 86400} days)."
        )
    return f"{count}/{seconds}s"


def cache_alias(cache: object, throttle: str) -> str:
    """The alias of the ``cache`` object a throttle class names (DRF's idiom)."""
    alias = cache_alias_of(cache)
    if alias is None:
        raise ImproperlyConfigured(
            f"{throttle}.cache is not a cache of CACHES; name one with cache_alias (the "
            "system check apierrors.E109 reports this at start-up)."
        )
    return alias

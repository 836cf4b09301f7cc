"""Rates: ``"100/hour"`` as DRF writes them, plus multiples of a unit (``"10/5m"``).

A rate is a count over a period: ``<count>/<unit>`` or ``<count>/<multiple><unit>``, where
the unit is ``s``/``sec``/``second``, ``m``/``min``/``minute``, ``h``/``hour`` or
``d``/``day`` (plurals too), e.g. ``"100/hour"``, ``"10/5m"``, ``"1000/30 seconds"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

UNITS: dict[str, int] = {}
for _seconds, _names in (
    (1, ("s", "sec", "secs", "second", "seconds")),
    (60, ("m", "min", "mins", "minute", "minutes")),
    (3600, ("h", "hr", "hrs", "hour", "hours")),
    (86400, ("d", "day", "days")),
):
    for _name in _names:
        UNITS[_name] = _seconds

_RATE = re.compile(r"(\d+)\s*/\s*(\d*)\s*([a-z]+)", re.IGNORECASE)

# Microseconds per second: stores count time in whole microseconds so that the Lua and the
# Python implementations compute with the same integers.
MICROS = 1_000_000


# Stores pack a count into 32 bits beside its window (see fixed_window.lua).
MAX_LIMIT = 1_000_000_000

# The longest period, in seconds: 3650 days. The Redis scripts compute in Lua's numbers,
# doubles, exact up to 2^53 microseconds (the year 2255); GCRA's arrival times reach now
# plus a burst's span, and past that bound a request's own interval is lost in rounding
# ("1/1000000d" refused the first request and admitted the next).
MAX_PERIOD = 3650 * 86400


class RateError(ValueError):
    """A rate string that does not parse."""


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``period`` seconds."""

    limit: int
    period: int

    @property
    def period_us(self) -> int:
        return self.period * MICROS

    def __str__(self) -> str:
        return f"{self.limit}/{self.period}s"


def parse_rate(text: object) -> Rate:
    """Parse ``"100/hour"`` or ``"10/5m"``; raise ``RateError`` saying what is wrong."""
    if not isinstance(text, str):
        raise RateError(f"A rate must be a string like '100/hour', not {text!r}.")
    return _parse(text)


@lru_cache(maxsize=512)
def _parse(text: str) -> Rate:
    match = _RATE.fullmatch(text.strip())
    if match is None:
        raise RateError(f"Rate {text!r} does not parse; write it like '100/hour' or '10/5m'.")
    count, multiple, unit = match.groups()
    seconds = UNITS.get(unit.lower())
    if seconds is None:
        raise RateError(
            f"Rate {text!r} has an unknown unit {unit!r}; use s, m, h or d "
            "(or second, minute, hour, day)."
        )
    limit = int(count)
    factor = int(multiple) if multiple else 1
    if limit < 1 or factor < 1:
        raise RateError(f"Rate {text!r} must allow at least 1 request per at least 1 unit.")
    if limit > MAX_LIMIT:
        raise RateError(f"Rate {text!r} allows more than {MAX_LIMIT} requests per period.")
    period = factor * seconds
    if period > MAX_PERIOD:
        raise RateError(f"Rate {text!r} has a period over {MAX_PERIOD // 86400} days.")
    return Rate(limit=limit, period=period)

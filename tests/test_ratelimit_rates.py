"""Rate strings: DRF's syntax, multiples of a unit, clear errors."""

from __future__ import annotations

import pytest

from apierrors.ratelimit.rates import MAX_LIMIT, MAX_PERIOD, Rate, RateError, parse_rate


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [
        ("100/hour", 100, 3600),
        ("100/h", 100, 3600),
        ("10/second", 10, 1),
        ("10/sec", 10, 1),
        ("10/s", 10, 1),
        ("5/min", 5, 60),
        ("5/minute", 5, 60),
        ("5/m", 5, 60),
        ("1000/day", 1000, 86400),
        ("1000/d", 1000, 86400),
        ("10/5m", 10, 300),
        ("10/5min", 10, 300),
        ("1000/30 seconds", 1000, 30),
        ("3/2hours", 3, 7200),
        (" 7 / 2 d ", 7, 172800),
        ("7/DAY", 7, 86400),
        ("1/3650d", 1, 3650 * 86400),
    ],
)
def test_parses(text, limit, period):
    assert parse_rate(text) == Rate(limit=limit, period=period)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("100", "does not parse"),
        ("100/", "does not parse"),
        ("hundred/hour", "does not parse"),
        ("-1/hour", "does not parse"),
        ("1.5/hour", "does not parse"),
        ("100/fortnight", "unknown unit 'fortnight'"),
        ("100/hourly", "unknown unit"),
        ("0/hour", "at least 1 request"),
        ("10/0m", "at least 1 request"),
        (f"{MAX_LIMIT + 1}/s", "more than"),
        ("1/3651d", "period over 3650 days"),
        ("1/1000000d", "period over 3650 days"),
        (f"1/{MAX_PERIOD + 1}s", "period over 3650 days"),
        ("", "does not parse"),
    ],
)
def test_refuses_with_a_reason(text, message):
    with pytest.raises(RateError, match=message):
        parse_rate(text)


@pytest.mark.parametrize("value", [None, 100, ["100/hour"], b"100/hour"])
def test_refuses_what_is_not_a_string(value):
    with pytest.raises(RateError, match="must be a string"):
        parse_rate(value)


def test_rate_in_microseconds_and_as_text():
    rate = parse_rate("10/5m")
    assert rate.period_us == 300_000_000
    assert str(rate) == "10/300s"

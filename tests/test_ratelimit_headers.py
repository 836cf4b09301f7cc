"""The rate-limit header contract: rounding, the merge across throttles, sending."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.http import HttpRequest, HttpResponse

from apierrors.ratelimit import Decision, headers, plan_for
from apierrors.ratelimit.rates import MICROS

T0 = 1_800_000_000 * MICROS


@pytest.mark.parametrize(
    ("micros", "seconds"),
    [(0, 0), (1, 1), (MICROS, 1), (MICROS + 1, 2), (T0 + 1, T0 // MICROS + 1)],
)
def test_seconds_up_rounds_up_exactly(micros, seconds):
    assert headers.seconds_up(micros) == seconds


@pytest.mark.parametrize(
    ("wait", "seconds"), [(None, 1), (float("nan"), 1), (0, 1), (0.2, 1), (5.0, 5), (5.01, 6)]
)
def test_retry_after_is_whole_seconds_and_at_least_one(wait, seconds):
    assert headers.retry_after_seconds(wait) == seconds


def test_the_merge_keeps_a_denial_over_any_allowance_and_lists_every_policy():
    minute = plan_for(("10/m",), "fixed_window", None, "h")
    hour = plan_for(("100/h",), "fixed_window", None, "h")
    request = HttpRequest()
    headers.record(request, minute, Decision([0, T0, 0, T0 + 30 * MICROS, 30 * MICROS]), "a")
    headers.record(request, hour, Decision([1, T0, 1, T0 + 3600 * MICROS, 0]), "b")
    recorded = getattr(request, headers.RATE_LIMIT_HEADERS_ATTR)
    assert recorded[headers.LIMIT] == "10"
    assert recorded[headers.REMAINING] == "0"
    assert recorded[headers.RESET] == str(T0 // MICROS + 30)
    assert recorded[headers.IETF_RATELIMIT] == '"a:10/60s";r=0;t=30'
    assert recorded[headers.IETF_RATELIMIT_POLICY] == (
        '"a:10/60s";q=10;w=60, "b:100/3600s";q=100;w=3600'
    )


def test_without_a_label_no_ietf_fields_are_recorded():
    plan = plan_for(("10/m",), "fixed_window", None, "h")
    request = HttpRequest()
    headers.record(request, plan, Decision([1, T0, 9, T0 + MICROS, 0]), None)
    assert sorted(getattr(request, headers.RATE_LIMIT_HEADERS_ATTR)) == sorted(
        headers.RATE_LIMIT_HEADERS
    )


def test_send_copies_the_recorded_headers_unless_turned_off(settings):
    request = SimpleNamespace(**{headers.RATE_LIMIT_HEADERS_ATTR: {headers.LIMIT: "10"}})
    response = HttpResponse()
    headers.send(request, response)  # type: ignore[arg-type]
    assert response[headers.LIMIT] == "10"
    settings.APIERRORS = {**getattr(settings, "APIERRORS", {}), "RATELIMIT_HEADERS": False}
    response = HttpResponse()
    headers.send(request, response)  # type: ignore[arg-type]
    assert headers.LIMIT not in response


def test_policy_names_are_structured_field_strings():
    assert headers.sf_string('a"b\\c\u00e9\n') == '"a\\"b\\\\c"'

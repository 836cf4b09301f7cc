"""The sandbox's throttles: headers on every response, the token endpoint's 10 per minute,
the campaign writes' two rates, and rates taken from settings."""

from __future__ import annotations

import time
from typing import Any

import pytest

from apierrors.throttling import UserRateLimitThrottle
from sandbox.settings import throttle_rates
from sandbox.throttles import CampaignWriteThrottle, TokenThrottle
from tests.sandbox.support import assert_envelope, send

pytestmark = pytest.mark.django_db

NOW = 1_700_000_020.0  # 20 s into a minute, 3620 s into an hour


def frozen(monkeypatch: pytest.MonkeyPatch, throttle: type[Any], at: float = NOW) -> None:
    """Run ``throttle`` on a clock that stands still, so no window ends mid-test."""
    monkeypatch.setattr(throttle, "timer", staticmethod(lambda: at))


def window_end(period: int, at: float = NOW) -> int:
    return (int(at) // period + 1) * period


def test_every_success_carries_the_user_quota(as_demo):
    before = time.time()
    response = as_demo.get("/api/v1/campaigns/")
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "1000"
    assert response["X-RateLimit-Remaining"] == "999"
    assert before < int(response["X-RateLimit-Reset"]) <= before + 3601
    second = as_demo.get("/api/v1/segments/")
    assert second["X-RateLimit-Remaining"] == "998"


def test_domain_errors_carry_the_headers_too(as_demo):
    response = as_demo.get("/api/v1/campaigns/999/")
    assert_envelope(response, "RESOURCE_NOT_FOUND", 404)
    assert response["X-RateLimit-Limit"] == "1000"


def test_users_are_counted_apart(as_demo, as_viewer):
    as_demo.get("/api/v1/campaigns/")
    as_demo.get("/api/v1/campaigns/")
    assert as_viewer.get("/api/v1/campaigns/")["X-RateLimit-Remaining"] == "999"


def test_token_endpoint_admits_ten_per_minute_per_address(seeded, anonymous, monkeypatch):
    frozen(monkeypatch, TokenThrottle)
    credentials = {"username": "demo", "password": "wrong"}
    for index in range(10):
        response = send(anonymous, "POST", "/api/v1/auth/token/", credentials)
        assert response.status_code == 401
        assert response["X-RateLimit-Limit"] == "10"
        assert response["X-RateLimit-Remaining"] == str(9 - index)
        assert response["X-RateLimit-Reset"] == str(window_end(60))
    # Right credentials do not help once the quota is spent.
    credentials["password"] = "demo-password"
    response = send(anonymous, "POST", "/api/v1/auth/token/", credentials)
    error = assert_envelope(response, "RATE_LIMIT_EXCEEDED", 429)
    wait = window_end(60) - int(NOW)
    assert error["retryAfter"] == wait
    assert error["message"] == f"Too many requests. Please retry after {wait} seconds."
    assert response["Retry-After"] == str(wait)
    assert response["X-RateLimit-Limit"] == "10"
    assert response["X-RateLimit-Remaining"] == "0"
    assert response["X-RateLimit-Reset"] == str(window_end(60))
    # Another address has its own quota.
    other = send(anonymous, "POST", "/api/v1/auth/token/", credentials, REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 200


def test_forwarded_for_does_not_buy_a_fresh_quota(seeded, anonymous, monkeypatch):
    frozen(monkeypatch, TokenThrottle)
    for index in range(11):
        response = send(
            anonymous,
            "POST",
            "/api/v1/auth/token/",
            {"username": "demo", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{index}",
        )
    assert_envelope(response, "RATE_LIMIT_EXCEEDED", 429)


def test_campaign_writes_have_two_rates(as_demo, demo, settings, monkeypatch):
    frozen(monkeypatch, CampaignWriteThrottle)
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates["campaign-writes"] = ["2/minute", "3/hour"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    def write(index: int) -> Any:
        return send(as_demo, "POST", "/api/v1/campaigns/", {"name": f"Burst {index}"})

    first = write(0)
    assert first.status_code == 201
    # The policy with the fewest requests left speaks: 1 of 2 this minute.
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("2", "1")
    assert write(1).status_code == 201
    denied = write(2)
    error = assert_envelope(denied, "RATE_LIMIT_EXCEEDED", 429)
    assert denied["X-RateLimit-Limit"] == "2"
    assert error["retryAfter"] == window_end(60) - int(NOW)
    # Reads are not writes.
    assert as_demo.get("/api/v1/campaigns/").status_code == 200
    # A minute later the per-minute rate admits again, until the hourly one is spent.
    frozen(monkeypatch, CampaignWriteThrottle, NOW + 60)
    assert write(3).status_code == 201
    denied = write(4)
    error = assert_envelope(denied, "RATE_LIMIT_EXCEEDED", 429)
    assert denied["X-RateLimit-Limit"] == "3"
    assert error["retryAfter"] == window_end(3600) - int(NOW + 60)


def test_rates_come_from_settings(as_demo, settings, monkeypatch):
    frozen(monkeypatch, UserRateLimitThrottle)
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates["user"] = "2/hour"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    assert as_demo.get("/api/v1/segments/").status_code == 200
    assert as_demo.get("/api/v1/segments/").status_code == 200
    response = as_demo.get("/api/v1/segments/")
    assert_envelope(response, "RATE_LIMIT_EXCEEDED", 429)
    assert response["X-RateLimit-Limit"] == "2"


def test_anonymous_views_are_throttled_by_address(anonymous):
    response = anonymous.get("/api/schema/")
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "100"


def test_rate_overrides_from_the_environment():
    rates = throttle_rates("token=3/minute, campaign-writes=2/second+20/hour,")
    assert rates["token"] == "3/minute"
    assert rates["campaign-writes"] == ["2/second", "20/hour"]
    assert rates["user"] == "1000/hour"
    assert throttle_rates("")["campaign-writes"] == ["10/second", "200/hour"]

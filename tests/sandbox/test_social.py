"""Social publishing end to end, against the simulated platforms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sandbox.social import platform
from sandbox.social.models import Connection, Post
from tests.sandbox.support import assert_envelope, send

pytestmark = pytest.mark.django_db

CONNECTIONS = "/api/v1/social/connections/"


def connect(
    user: Any, name: str = "chirp", expires_in: float = 3600, simulate: str | None = None
) -> Connection:
    return Connection.objects.create(
        owner=user,
        platform=name,
        access_token="token",
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        simulate=simulate,
    )


def posts(connection: Connection) -> str:
    return f"{CONNECTIONS}{connection.pk}/posts/"


def test_create_and_list_connections(as_demo, as_other):
    body = {
        "platform": "linkup",
        "accessToken": "secret-token",
        "expiresAt": "2031-01-01T00:00:00Z",
        "simulate": None,
    }
    response = send(as_demo, "POST", CONNECTIONS, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {"id", "platform", "expiresAt", "simulate", "createdAt"}
    assert "secret-token" not in response.content.decode()
    assert created["platform"] == "linkup"
    listing = as_demo.get(CONNECTIONS).json()
    assert listing["count"] == 3
    # Connections are private: another user sees none of demo's.
    assert as_other.get(CONNECTIONS).json()["count"] == 0
    assert_envelope(as_other.get(f"{CONNECTIONS}{created['id']}/"), "RESOURCE_NOT_FOUND", 404)


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (
            {"platform": "myspace", "accessToken": "t", "expiresAt": "2031-01-01T00:00:00Z"},
            [("platform", "INVALID_FORMAT")],
        ),
        (
            {"platform": "chirp", "expiresAt": "2031-01-01T00:00:00Z"},
            [("accessToken", "MISSING_FIELD")],
        ),
        (
            {"platform": "chirp", "accessToken": "t", "expiresAt": "soon"},
            [("expiresAt", "INVALID_FORMAT")],
        ),
        (
            {
                "platform": "chirp",
                "accessToken": "t",
                "expiresAt": "2031-01-01T00:00:00Z",
                "simulate": "fire",
            },
            [("simulate", "INVALID_FORMAT")],
        ),
        (
            {"platform": "chirp", "accessToken": "t\x00", "expiresAt": "2031-01-01T00:00:00Z"},
            [("accessToken", "INVALID_FORMAT")],
        ),
    ],
)
def test_connection_body_is_validated(as_demo, body, details):
    assert_envelope(send(as_demo, "POST", CONNECTIONS, body), details[0][1], 422, details)


def test_publish(as_demo, demo):
    connection = connect(demo)
    response = send(as_demo, "POST", posts(connection), {"content": "Hello world"})
    assert response.status_code == 201, response.content
    post = response.json()
    assert set(post) == {"id", "connectionId", "platform", "content", "externalId", "publishedAt"}
    assert post["connectionId"] == connection.pk
    assert post["externalId"].startswith("chirp_")


def test_expired_connection_is_connection_expired(as_demo, demo):
    connection = connect(demo, expires_in=-60)
    error = assert_envelope(
        send(as_demo, "POST", posts(connection), {"content": "Hi"}), "CONNECTION_EXPIRED", 409
    )
    assert "reconnect" in error["message"]
    assert not Post.objects.exists()


def test_the_seeded_expired_connection(as_demo):
    connection = Connection.objects.get(platform="linkup", owner__username="demo")
    assert_envelope(
        send(as_demo, "POST", posts(connection), {"content": "Hi"}), "CONNECTION_EXPIRED", 409
    )


def test_outage_is_publishing_failed(as_demo, demo):
    connection = connect(demo, simulate="outage")
    response = send(as_demo, "POST", posts(connection), {"content": "Hi"})
    assert_envelope(response, "PUBLISHING_FAILED", 502)
    assert not Post.objects.exists()


def test_platform_rate_limit_is_rate_limit_exceeded(as_demo, demo):
    connection = connect(demo, simulate="rateLimited")
    response = send(as_demo, "POST", posts(connection), {"content": "Hi"})
    error = assert_envelope(response, "RATE_LIMIT_EXCEEDED", 429)
    assert error["retryAfter"] == platform.SIMULATED_RETRY_AFTER
    assert response["Retry-After"] == str(platform.SIMULATED_RETRY_AFTER)


def test_posts_per_minute_are_limited_for_real(as_demo, demo):
    connection = connect(demo)
    limit = platform.PLATFORMS["chirp"].posts_per_minute
    for index in range(limit):
        assert (
            send(as_demo, "POST", posts(connection), {"content": f"Post {index}"}).status_code
            == 201
        )
    response = send(as_demo, "POST", posts(connection), {"content": "One too many"})
    error = assert_envelope(response, "RATE_LIMIT_EXCEEDED", 429)
    assert 1 <= error["retryAfter"] <= 60
    assert response["Retry-After"] == str(error["retryAfter"])
    assert f"{limit} posts per minute" in error["message"]
    assert Post.objects.count() == limit
    # The limit is per connection.
    assert send(as_demo, "POST", posts(connect(demo)), {"content": "Elsewhere"}).status_code == 201


def test_posts_leave_the_window_after_a_minute(as_demo, demo):
    connection = connect(demo)
    limit = platform.PLATFORMS["chirp"].posts_per_minute
    long_ago = timezone.now() - timedelta(seconds=61)
    Post.objects.bulk_create(
        Post(connection=connection, content="old", external_id=f"old{i}", published_at=long_ago)
        for i in range(limit)
    )
    assert send(as_demo, "POST", posts(connection), {"content": "Fresh"}).status_code == 201


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("chirp", "x" * 281),
        ("chirp", "Get FREE MONEY now"),
        ("linkup", "y" * 3001),
        ("linkup", "Please click here"),
    ],
)
def test_content_breaking_the_rules_is_content_rejected(as_demo, demo, name, content):
    connection = connect(demo, name)
    response = send(as_demo, "POST", posts(connection), {"content": content})
    error = assert_envelope(response, "CONTENT_REJECTED", 422, [("content", "CONTENT_REJECTED")])
    assert name in error["message"]
    assert not Post.objects.exists()


def test_long_content_fits_the_platform_that_allows_it(as_demo, demo):
    response = send(as_demo, "POST", posts(connect(demo, "linkup")), {"content": "y" * 3000})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({}, [("content", "MISSING_FIELD")]),
        ({"content": ""}, [("content", "INVALID_FORMAT")]),
        ({"content": "x" * 10001}, [("content", "INVALID_FORMAT")]),
        ({"content": "hi", "media": []}, [("media", "INVALID_FIELD")]),
    ],
)
def test_post_body_is_validated(as_demo, demo, body, details):
    response = send(as_demo, "POST", posts(connect(demo)), body)
    assert_envelope(response, details[0][1], 422, details)


def test_publishing_needs_the_scope_and_ownership(as_viewer, as_other, demo, client_for):
    connection = connect(demo)
    response = send(as_viewer, "POST", posts(connection), {"content": "Hi"})
    assert_envelope(response, "INVALID_SCOPE", 403)
    assert (
        response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="social:publish"'
    )
    response = send(as_other, "POST", posts(connection), {"content": "Hi"})
    assert_envelope(
        response, "RESOURCE_NOT_FOUND", 404, message=f"Connection {connection.pk} does not exist."
    )
    response = send(
        client_for(demo, scopes=["campaigns:read"]), "POST", posts(connection), {"content": "Hi"}
    )
    assert_envelope(response, "INVALID_SCOPE", 403)

"""The simulated social platforms the sandbox publishes to.

Each platform has documented rules, checked in this order when a post arrives:

1. the connection's token must not have expired (``expiresAt``);
2. ``simulate="outage"``: the platform is down;
3. ``simulate="rateLimited"``: the platform refuses with a retry delay of
   ``SIMULATED_RETRY_AFTER`` seconds; otherwise at most ``posts_per_minute`` posts per
   connection in any 60 seconds, the delay being when the oldest of them leaves the window;
4. the content must fit ``max_length`` and hold none of ``BLOCKED_TERMS``.

Failures are this module's exceptions; the view turns them into API errors.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.social.models import Connection, Post

SIMULATED_RETRY_AFTER = 30
WINDOW = timedelta(minutes=1)
BLOCKED_TERMS = ("free money", "click here", "miracle cure")


@dataclass(frozen=True)
class Platform:
    name: str
    max_length: int
    posts_per_minute: int


PLATFORMS: dict[str, Platform] = {
    platform.name: platform
    for platform in (
        Platform("chirp", max_length=280, posts_per_minute=5),
        Platform("linkup", max_length=3000, posts_per_minute=10),
    )
}


class PlatformError(Exception):
    """The platform did not publish."""


class TokenExpired(PlatformError):
    """The connection's access token is past its expiry."""


class Unavailable(PlatformError):
    """The platform did not answer."""


class RateLimited(PlatformError):
    """The platform refused: too many posts; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, limit: int | None) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after
        self.limit = limit


class Rejected(PlatformError):
    """The content breaks the platform's rules; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_content(platform: Platform, content: str) -> None:
    if len(content) > platform.max_length:
        raise Rejected(
            f"{platform.name} accepts at most {platform.max_length} characters; "
            f"this content has {len(content)}."
        )
    lowered = content.lower()
    for term in BLOCKED_TERMS:
        if term in lowered:
            raise Rejected(f'{platform.name} does not accept posts containing "{term}".')


def check_rate(platform: Platform, connection: Connection, now: datetime) -> None:
    if connection.simulate == Connection.RATE_LIMITED:
        raise RateLimited(SIMULATED_RETRY_AFTER, None)
    recent = list(
        Post.objects.filter(connection=connection, published_at__gt=now - WINDOW)
        .order_by("published_at")
        .values_list("published_at", flat=True)[: platform.posts_per_minute]
    )
    if len(recent) >= platform.posts_per_minute:
        wait = (recent[0] + WINDOW - now).total_seconds()
        raise RateLimited(max(1, math.ceil(wait)), platform.posts_per_minute)


def publish(connection: Connection, content: str, now: datetime) -> Post:
    """Publish ``content`` through ``connection`` at ``now``, or raise ``PlatformError``.

    The caller holds a lock on the connection's row, so concurrent posts on one connection
    are counted one after the other.
    """
    platform = PLATFORMS[connection.platform]
    if connection.expires_at <= now:
        raise TokenExpired
    if connection.simulate == Connection.OUTAGE:
        raise Unavailable
    check_rate(platform, connection, now)
    check_content(platform, content)
    return Post.objects.create(
        connection=connection,
        content=content,
        external_id=f"{platform.name}_{secrets.token_hex(8)}",
        published_at=now,
    )

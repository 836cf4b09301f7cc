"""Views for the throttling tests; every throttle here reads the time from ``clock``."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apierrors import exceptions as errors
from apierrors.throttling import (
    AnonRateLimitThrottle,
    RateLimitThrottle,
    ScopedRateLimitThrottle,
    UserRateLimitThrottle,
)


class Clock:
    """A clock the tests move by hand (seconds since the epoch)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


clock = Clock()


class UserThrottle(UserRateLimitThrottle):
    timer = clock


class AnonThrottle(AnonRateLimitThrottle):
    timer = clock


class ScopedThrottle(ScopedRateLimitThrottle):
    timer = clock


class BurstThrottle(UserRateLimitThrottle):
    """Two rates checked together, consumed all or none."""

    scope = "burst"
    rates = ("2/second", "5/minute")
    timer = clock


class SustainedThrottle(UserRateLimitThrottle):
    scope = "sustained"
    rate = "3/minute"
    timer = clock


class AddressThrottle(RateLimitThrottle):
    """Per client address, rate given on the class."""

    rate = "3/minute"
    timer = clock

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": "address", "ident": self.get_ident(request)}


class Ok(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class UserView(Ok):
    throttle_classes = [UserThrottle]


class AnonView(Ok):
    throttle_classes = [AnonThrottle]


class BurstView(Ok):
    throttle_classes = [BurstThrottle]


class TwoThrottlesView(Ok):
    throttle_classes = [BurstThrottle, SustainedThrottle]


class AddressView(Ok):
    throttle_classes = [AddressThrottle]


class FailingView(APIView):
    """Throttled, then fails: the error response carries the headers too."""

    throttle_classes = [UserThrottle]

    def get(self, request: Request) -> Response:
        raise errors.ResourceNotFound("Nothing here.")

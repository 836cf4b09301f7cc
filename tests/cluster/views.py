"""A throttled view for the cluster drills: the client is named by a request header."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apierrors.throttling import RateLimitThrottle

NOW = 1_800_000_000.0
"""The throttle's clock stands still, so every attempt falls in one window."""


class ClientThrottle(RateLimitThrottle):
    """100 a minute per ``X-Client``."""

    rate = "100/minute"
    scope = "drill"

    @staticmethod
    def timer() -> float:
        return NOW

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return f"drill:{request.headers.get('X-Client', '')}"


class DrillView(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes = [ClientThrottle]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

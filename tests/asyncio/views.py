"""adrf async views with the same throttles as the sync views of ``tests.throttle_app``."""

from __future__ import annotations

from adrf.views import APIView as AsyncAPIView
from django.http import HttpRequest, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response

from apierrors.throttling import athrottle
from tests.throttle_app.views import BurstThrottle, SustainedThrottle, UserThrottle


class AsyncOk(AsyncAPIView):
    async def get(self, request: Request) -> Response:
        return Response({"ok": True})


class AsyncUserView(AsyncOk):
    throttle_classes = [UserThrottle]


class AsyncTwoThrottlesView(AsyncOk):
    throttle_classes = [BurstThrottle, SustainedThrottle]


@athrottle(UserThrottle)
async def plain_async_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})

"""An async view that logs on both sides of an await, for concurrent requests."""

from __future__ import annotations

import asyncio
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

logger = logging.getLogger("tests.testapp")


async def interleaved(request: HttpRequest, n: int) -> HttpResponse:
    logger.info("before")
    await asyncio.sleep(0.01)  # the other requests run meanwhile
    logger.info("after")
    return JsonResponse({"error": "none here"}, status=404)


urlpatterns = [path("interleaved/<int:n>/", interleaved)]

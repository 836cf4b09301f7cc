"""The sandbox's v1 resources with DRF's throttles in place of apierrors' (bench/e2e.py)."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import AnonRateThrottle, BaseThrottle, UserRateThrottle

from sandbox.campaigns.views import CampaignViewSet
from sandbox.segments.views import SegmentViewSet

DRF_THROTTLES: list[Any] = [UserRateThrottle, AnonRateThrottle]


class Segments(SegmentViewSet):
    throttle_classes = DRF_THROTTLES


class Campaigns(CampaignViewSet):
    throttle_classes = DRF_THROTTLES

    def get_throttles(self) -> list[BaseThrottle]:
        # DRF's own: the throttle classes, without the sandbox's campaign-writes throttle
        # (which skips reads, the only requests the benchmark sends).
        return [throttle() for throttle in self.throttle_classes]


router = SimpleRouter()
router.register("segments", Segments, basename="segment")
router.register("campaigns", Campaigns, basename="campaign")

urlpatterns = [path("api/v1/", include(router.urls))]

"""The sandbox's URLs: the v1 API, the token endpoints, the OpenAPI schema and its UI."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from apierrors.contrib.prometheus import metrics_view
from apierrors.throttling import AnonRateLimitThrottle, UserRateLimitThrottle
from sandbox.accounts.views import TokenRefreshView, TokenView
from sandbox.campaigns.views import CampaignViewSet
from sandbox.segments.views import SegmentViewSet
from sandbox.social.views import ConnectionViewSet

# The views anyone may call are throttled like the others, by client address.
PUBLIC = [UserRateLimitThrottle, AnonRateLimitThrottle]

router = SimpleRouter()
router.register("segments", SegmentViewSet, basename="segment")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("social/connections", ConnectionViewSet, basename="connection")

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/auth/token/", TokenView.as_view(), name="token"),
    path("api/v1/auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(throttle_classes=PUBLIC), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", throttle_classes=PUBLIC),
        name="docs",
    ),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "apierrors.views.bad_request"
handler403 = "apierrors.views.permission_denied"
handler404 = "apierrors.views.page_not_found"
handler500 = "apierrors.views.server_error"

"""The sandbox's URLs: the v1 API, the token endpoints, the OpenAPI schema and its UI."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from rest_framework.routers import SimpleRouter

from apierrors.contrib.prometheus import metrics_view
from sandbox.accounts.views import TokenRefreshView, TokenView
from sandbox.campaigns.views import CampaignViewSet
from sandbox.schema import DocsView, SchemaView
from sandbox.segments.views import SegmentViewSet
from sandbox.social.views import ConnectionViewSet

router = SimpleRouter()
router.register("segments", SegmentViewSet, basename="segment")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("social/connections", ConnectionViewSet, basename="connection")

urlpatterns: list[URLPattern | URLResolver] = [
    # The bare host points people at the interactive docs.
    path("", RedirectView.as_view(pattern_name="docs", permanent=False), name="root"),
    path("api/v1/auth/token/", TokenView.as_view(), name="token"),
    path("api/v1/auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", DocsView.as_view(url_name="schema"), name="docs"),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "apierrors.views.bad_request"
handler403 = "apierrors.views.permission_denied"
handler404 = "apierrors.views.page_not_found"
handler500 = "apierrors.views.server_error"

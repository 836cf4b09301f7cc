"""The test URLs without the sandbox's (whose /metrics needs prometheus_client)."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("t/throttle/", include("tests.throttle_app.urls")),
    path("t/", include("tests.testapp.urls")),
]

handler404 = "apierrors.views.page_not_found"
handler500 = "apierrors.views.server_error"

from __future__ import annotations

from django.urls import include, path

from sandbox.urls import urlpatterns as sandbox_urlpatterns

urlpatterns = [
    path("t/throttle/", include("tests.throttle_app.urls")),
    path("t/openapi/", include("tests.openapi_app.urls")),
    path("t/", include("tests.testapp.urls")),
    *sandbox_urlpatterns,
]

handler400 = "apierrors.views.bad_request"
handler403 = "apierrors.views.permission_denied"
handler404 = "apierrors.views.page_not_found"
handler500 = "apierrors.views.server_error"

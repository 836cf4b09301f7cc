from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

handler400 = "apierrors.views.bad_request"
handler403 = "apierrors.views.permission_denied"
handler404 = "apierrors.views.page_not_found"
handler500 = "apierrors.views.server_error"

from __future__ import annotations

from django.urls import include, path

from tests.asyncio import views

urlpatterns = [
    path("t/throttle/", include("tests.throttle_app.urls")),
    path("a/user/", views.AsyncUserView.as_view()),
    path("a/two/", views.AsyncTwoThrottlesView.as_view()),
    # django-stubs types path()'s view as synchronous; Django serves async ones too.
    path("a/plain/", views.plain_async_view),  # type: ignore[arg-type]
]

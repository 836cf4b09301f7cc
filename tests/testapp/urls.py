from __future__ import annotations

from django.urls import include, path

from tests.testapp import views

urlpatterns = [
    path("code/<str:code>/", views.RaiseCodeView.as_view()),
    path("drf/<str:name>/", views.RaiseDRFView.as_view()),
    path("auth/", views.AuthView.as_view()),
    path("auth/throttled/", views.ThrottledAuthView.as_view()),
    path("auth/drf-throttled/", views.DRFThrottledAuthView.as_view()),
    path("auth/refused-inside/", views.RefusedInsideView.as_view()),
    path("orders/", views.OrderView.as_view()),
    path("orders/bulk/", views.BulkOrderView.as_view()),
    path("orders/strict/", views.StrictOrderView.as_view()),
    path("orders/loose/", views.LooseView.as_view()),
    path("things/", views.ThingCreateView.as_view()),
    path("things/<int:pk>/", views.ThingDeleteView.as_view()),
    path("things/search/", views.ThingSearchView.as_view()),
    path("things/<int:pk>/holders/", views.HolderCreateView.as_view()),
    path("things/<int:first>/<int:second>/rename/", views.RenameTwoView.as_view()),
    path("plain/", views.PlainView.as_view()),
    path("write-then-conflict/", views.WriteThenConflictView.as_view()),
    path("browsable/", views.BrowsableView.as_view()),
    path("django/<str:name>/", views.django_view),
    path("async/", views.async_view),
    path("rate-headers/", views.RateHeadersView.as_view()),
    path("session/", views.SessionView.as_view()),
    path("csrf/", views.csrf_view),
    path("dropin/", include("tests.dropin.urls")),
]

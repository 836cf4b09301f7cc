from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from tests.openapi_app import views

router = SimpleRouter(use_regex_path=False)
router.register("reports", views.ReportViewSet, basename="report")

urlpatterns = [
    path("ping/", views.PingView.as_view()),
    path("missing/", views.MissingView.as_view()),
    path("validated/", views.ValidatedView.as_view()),
    path("notes/", views.NoteListView.as_view()),
    path("notes/<int:pk>/", views.NoteDetailView.as_view()),
    path("health/", views.health),
    path("things/", views.ThingListView.as_view()),
    *router.urls,
]

from __future__ import annotations

from django.urls import path

from tests.dropin import views

urlpatterns = [
    path("atomic/<str:failure>/", views.AtomicWriteView.as_view()),
    path("atomic-fn/<str:failure>/", views.atomic_function_view),
    path("session-first/", views.SessionFirstView.as_view()),
    path("basic-first/", views.BasicFirstView.as_view()),
    path("parse/", views.ParseView.as_view()),
    path("raise/<str:name>/", views.RaiseView.as_view()),
]

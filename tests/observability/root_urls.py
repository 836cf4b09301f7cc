"""A DRF view at the root of the URLconf, whose pattern is Django's empty route."""

from __future__ import annotations

from django.urls import path

from tests.testapp import views

urlpatterns = [path("", views.RaiseDRFView.as_view(), {"name": "not_found"})]

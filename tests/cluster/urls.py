from __future__ import annotations

from django.urls import path

from tests.cluster.views import DrillView

urlpatterns = [path("drill/", DrillView.as_view())]

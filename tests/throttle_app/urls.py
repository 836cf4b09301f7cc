from __future__ import annotations

from django.urls import path

from tests.throttle_app import views

urlpatterns = [
    path("user/", views.UserView.as_view()),
    path("anon/", views.AnonView.as_view()),
    path("burst/", views.BurstView.as_view()),
    path("two/", views.TwoThrottlesView.as_view()),
    path("address/", views.AddressView.as_view()),
    path("failing/", views.FailingView.as_view()),
]

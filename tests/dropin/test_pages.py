"""Django's own pages stay Django's under EXCLUDE_PATHS; the 500 log line cannot be forged."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, RequestFactory

from apierrors import views

pytestmark = pytest.mark.django_db

EXCLUDED = {"EXCLUDE_PATHS": [r"^/t/django/"]}


def is_html(response) -> bool:
    return bool(response["Content-Type"].startswith("text/html"))


@pytest.fixture
def excluded(settings):
    settings.APIERRORS = EXCLUDED
    settings.DEBUG = False


@pytest.mark.parametrize(
    ("view", "status"),
    [
        (lambda request: views.bad_request(request, None), 400),
        (lambda request: views.permission_denied(request, None), 403),
        (lambda request: views.page_not_found(request, None), 404),
        (views.server_error, 500),
        (lambda request: views.csrf_failure(request, reason="CSRF cookie not set."), 403),
    ],
)
def test_error_views_delegate_to_django_on_excluded_paths(excluded, view, status):
    response = view(RequestFactory().get("/t/django/admin-page/"))
    assert response.status_code == status
    assert is_html(response)
    response = view(RequestFactory().get("/t/api/"))
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"


def test_an_excluded_csrf_failure_is_djangos_page(settings):
    # As the admin's login form under EXCLUDE_PATHS = [r"^/admin/"].
    client = Client(enforce_csrf_checks=True)
    assert client.post("/t/csrf/", {"a": "b"})["Content-Type"] == "application/json"
    settings.APIERRORS = {"EXCLUDE_PATHS": [r"^/t/csrf/"]}
    response = client.post("/t/csrf/", {"a": "b"})
    assert response.status_code == 403
    assert is_html(response)


def test_an_excluded_404_with_debug_off_is_djangos_page(excluded):
    response = Client().get("/t/django/no/such/page/")
    assert response.status_code == 404
    assert is_html(response)


def test_the_500_log_line_escapes_control_characters(api_client, caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api_client.get("/t/django/x%0AForged%20line%1B[31m/")
    assert response.status_code == 500
    records = [record for record in caplog.records if record.name == "django.request"]
    assert records
    line = records[-1].getMessage()
    assert "\n" not in line
    assert "\x1b" not in line
    assert "\\n" in line

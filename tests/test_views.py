from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.test import Client, RequestFactory

from apierrors import views

pytestmark = pytest.mark.django_db


def body(response) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    error: dict[str, Any] = json.loads(response.content)["error"]
    return error


@pytest.fixture
def request_():
    request = RequestFactory().get("/x/")
    # The attribute the middleware sets on the request; Django's types do not declare it.
    request.request_id = "req_000000000000000000000001"  # type: ignore[attr-defined]
    return request


def test_bad_request(request_):
    response = views.bad_request(request_, SuspiciousOperation("evil"))
    assert response.status_code == 400
    assert body(response)["code"] == "BAD_REQUEST"
    assert body(response)["requestId"] == "req_000000000000000000000001"
    assert "evil" not in response.content.decode()


def test_bad_request_for_an_oversized_body(request_):
    response = views.bad_request(request_, RequestDataTooBig("too big"))
    assert response.status_code == 413
    assert body(response)["message"] == "The request body is too large."


def test_permission_denied(request_):
    response = views.permission_denied(request_, Exception("secret"))
    assert response.status_code == 403
    assert body(response)["code"] == "FORBIDDEN"
    assert "secret" not in response.content.decode()


def test_page_not_found(request_):
    response = views.page_not_found(request_, Exception("secret"))
    assert response.status_code == 404
    assert body(response)["code"] == "RESOURCE_NOT_FOUND"


def test_server_error(request_):
    response = views.server_error(request_)
    assert response.status_code == 500
    assert body(response)["code"] == "SERVER_ERROR"


def test_csrf_failure_does_not_quote_the_reason(request_):
    reason = "Origin checking failed - https://evil.example does not match any trusted origins."
    response = views.csrf_failure(request_, reason=reason)
    assert response.status_code == 403
    assert body(response)["code"] == "FORBIDDEN"
    assert "evil.example" not in response.content.decode()


def test_real_csrf_failure_goes_through_the_csrf_failure_view():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/t/csrf/", {"a": "b"}, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    error = body(response)
    assert error["code"] == "FORBIDDEN"
    assert error["message"].startswith("CSRF verification failed.")
    assert error["requestId"] == response["X-Request-ID"]
    assert "evil.example" not in response.content.decode()


def test_drf_session_csrf_failure_is_forbidden_without_echo():
    user = User.objects.create_user("csrf-user", password="pw")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(
        "/t/session/", "{}", content_type="application/json", HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    error = body(response)
    assert error["code"] == "FORBIDDEN"
    assert error["message"].startswith("CSRF verification failed.")
    assert "evil.example" not in response.content.decode()

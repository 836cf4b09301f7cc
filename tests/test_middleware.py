from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from apierrors.request_id import get_request_id

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"req_[0-9a-f]{24}")


def test_generated_request_id_is_on_header_body_and_request(api_client):
    response = api_client.get("/t/plain/")
    request_id = response["X-Request-ID"]
    assert GENERATED.fullmatch(request_id)
    assert response.json() == {"requestId": request_id}


def test_generated_ids_differ_per_request(api_client):
    ids = {api_client.get("/t/plain/")["X-Request-ID"] for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize(
    "incoming", ["abc-123", "a" * 128, "trace:1.2_x-y", "0", "req_8f14e45fceea167a5a36dedd"]
)
def test_valid_incoming_id_is_kept(api_client, incoming):
    response = api_client.get("/t/code/FORBIDDEN/", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] == incoming
    assert response.json()["error"]["requestId"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "a" * 129,
        "",
        "has space",
        "x\r\nSet-Cookie: owned=1",
        "line\nfeed",
        "caf\u00e9",
        "\u0000nul",
        "a" * 10_000,
        "<script>",
        "abc\n",
    ],
)
def test_invalid_incoming_id_is_replaced_never_echoed(api_client, incoming):
    response = api_client.get("/t/code/FORBIDDEN/", HTTP_X_REQUEST_ID=incoming)
    assert GENERATED.fullmatch(response["X-Request-ID"])
    assert response.json()["error"]["requestId"] == response["X-Request-ID"]
    if incoming:
        assert incoming not in response.content.decode()


def test_incoming_ids_can_be_ignored(api_client, settings):
    settings.APIERRORS = {"ACCEPT_REQUEST_ID": False}
    response = api_client.get("/t/plain/", HTTP_X_REQUEST_ID="client-chosen")
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_request_id_header_name_is_configurable(api_client, settings):
    settings.APIERRORS = {"REQUEST_ID_HEADER": "X-Correlation-ID"}
    response = api_client.get("/t/plain/", HTTP_X_CORRELATION_ID="corr-1")
    assert response["X-Correlation-ID"] == "corr-1"
    assert response.json() == {"requestId": "corr-1"}


def test_context_variable_is_reset_after_the_request(api_client):
    api_client.get("/t/plain/")
    assert get_request_id() is None


def test_async_view_gets_the_request_id():
    response = async_to_sync(AsyncClient().get)("/t/async/", headers={"X-Request-ID": "async-1"})
    assert response["X-Request-ID"] == "async-1"
    assert response.json() == {"requestId": "async-1"}


def test_async_unknown_url_is_enveloped():
    response = async_to_sync(AsyncClient().get)("/no/such/async/url/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert response.json()["error"]["requestId"] == response["X-Request-ID"]


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_url_is_404_json(api_client, settings, debug):
    settings.DEBUG = debug
    response = api_client.get("/no/such/url/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "RESOURCE_NOT_FOUND"
    assert error["requestId"] == response["X-Request-ID"]
    assert "/no/such/url/" not in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("http404", 404, "RESOURCE_NOT_FOUND"),
        ("permission", 403, "FORBIDDEN"),
        ("suspicious", 400, "BAD_REQUEST"),
        ("boom", 500, "SERVER_ERROR"),
        ("html_400", 400, "BAD_REQUEST"),
    ],
)
def test_errors_outside_drf_are_enveloped(api_client, settings, debug, name, status, code):
    settings.DEBUG = debug
    response = api_client.get(f"/t/django/{name}/")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert "secret" not in response.content.decode()


def test_json_error_of_a_plain_view_is_left_alone(api_client):
    response = api_client.get("/t/django/own_json/")
    assert response.status_code == 418
    assert response.json() == {"mine": True}
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_success_of_a_plain_view_is_untouched(api_client):
    response = api_client.get("/t/django/ok/")
    assert response.content == b"fine"


def test_excluded_paths_keep_django_pages(api_client, settings):
    settings.APIERRORS = {"EXCLUDE_PATHS": [r"^/t/django/"]}
    response = api_client.get("/t/django/html_400/")
    assert response.status_code == 400
    assert response.content == b"<h1>Bad</h1>"


@pytest.mark.parametrize("debug", [False, True])
def test_exception_in_another_middleware_is_enveloped(api_client, settings, debug):
    settings.DEBUG = debug
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.testapp.middleware.ExplodingMiddleware"]
    response = api_client.get("/t/plain/", HTTP_X_BOOM="1")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "SERVER_ERROR"
    assert error["requestId"] == response["X-Request-ID"]
    assert "secret" not in response.content.decode()


def test_rate_limit_headers_are_copied_on_success_and_error(api_client):
    for url, status in (("/t/rate-headers/", 200), ("/t/rate-headers/?fail=1", 404)):
        response = api_client.get(url)
        assert response.status_code == status
        assert response["X-RateLimit-Limit"] == "10"
        assert response["X-RateLimit-Remaining"] == "9"
        assert response["X-RateLimit-Reset"] == "1734184800"


def test_rate_limit_headers_can_be_switched_off(api_client, settings):
    settings.APIERRORS = {"RATELIMIT_HEADERS": False}
    response = api_client.get("/t/rate-headers/")
    assert "X-RateLimit-Limit" not in response

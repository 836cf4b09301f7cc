from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.signals import got_request_exception
from django.db import connection

from apierrors import codes
from apierrors.handler import ExceptionHandler, retry_after_seconds
from tests.testapp.models import Holder, Thing

pytestmark = pytest.mark.django_db

SECRET_FRAGMENTS = ("hunter2", "/srv/app", "secret", "Traceback", "RuntimeError", "<script>")


def envelope_of(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert error["requestId"] == response["X-Request-ID"]
    assert error["requestId"].startswith("req_")
    assert isinstance(error["message"], str)
    assert error["message"]
    for fragment in SECRET_FRAGMENTS:
        assert fragment not in response.content.decode()
    return error


@pytest.mark.parametrize("code", sorted(codes.CATALOGUE))
def test_every_catalogue_code_answers_its_status_and_body(api_client, code):
    entry = codes.CATALOGUE[code]
    response = api_client.get(f"/t/code/{code}/")
    error = envelope_of(response, entry.status, code)
    assert error["message"] == str(entry.message)
    if entry.status == 429:
        assert error["retryAfter"] == 1
        assert response["Retry-After"] == "1"
    else:
        assert set(error) == {"code", "message", "requestId"}


@pytest.mark.parametrize(
    ("name", "status", "code", "message"),
    [
        # DRF's default authentication (SessionAuthentication first) has no challenge to
        # send, so DRF's own rule answers 403: apierrors does the same.
        ("not_authenticated", 403, "FORBIDDEN", "Authentication credentials were not provided."),
        ("authentication_failed", 403, "FORBIDDEN", "Incorrect authentication credentials."),
        ("permission_denied", 403, "FORBIDDEN", "Only owners may do this."),
        ("not_found", 404, "RESOURCE_NOT_FOUND", "Not found."),
        ("http404", 404, "RESOURCE_NOT_FOUND", str(codes.RESOURCE_NOT_FOUND.message)),
        ("parse_error", 400, "VALIDATION_ERROR", "JSON parse error - Expecting value: line 1"),
        ("method_not_allowed", 405, "METHOD_NOT_ALLOWED", str(codes.METHOD_NOT_ALLOWED.message)),
        ("not_acceptable", 406, "NOT_ACCEPTABLE", "Could not satisfy the request Accept header."),
        (
            "unsupported_media_type",
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            str(codes.UNSUPPORTED_MEDIA_TYPE.message),
        ),
        ("django_permission_denied", 403, "FORBIDDEN", str(codes.FORBIDDEN.message)),
        ("does_not_exist", 404, "RESOURCE_NOT_FOUND", str(codes.RESOURCE_NOT_FOUND.message)),
        ("suspicious", 400, "BAD_REQUEST", "The request is not valid."),
        ("custom_api_exception", 409, "RESOURCE_CONFLICT", "Already archived."),
        ("custom_500_api_exception", 500, "SERVER_ERROR", str(codes.SERVER_ERROR.message)),
        ("jwt_like_dict_detail", 403, "FORBIDDEN", str(codes.FORBIDDEN.message)),
    ],
)
def test_drf_and_django_exceptions_are_mapped(api_client, name, status, code, message):
    error = envelope_of(api_client.get(f"/t/drf/{name}/"), status, code)
    assert error["message"] == message
    assert "details" not in error


@pytest.mark.parametrize(
    ("name", "seconds"), [("throttled", 13), ("throttled_none", 1), ("throttled_fraction", 1)]
)
def test_throttled_is_429_with_retry_after_rounded_up_and_at_least_one(api_client, name, seconds):
    response = api_client.get(f"/t/drf/{name}/")
    error = envelope_of(response, 429, "RATE_LIMIT_EXCEEDED")
    assert error["retryAfter"] == seconds
    assert response["Retry-After"] == str(seconds)
    unit = "second" if seconds == 1 else "seconds"
    assert error["message"] == f"Too many requests. Please retry after {seconds} {unit}."


@pytest.mark.parametrize(
    ("wait", "seconds"), [(None, 1), (0, 1), (0.01, 1), (1.0, 1), (1.2, 2), (59.5, 60)]
)
def test_retry_after_seconds(wait, seconds):
    assert retry_after_seconds(wait) == seconds


def test_unauthenticated_keeps_www_authenticate(api_client):
    response = api_client.get("/t/auth/")
    envelope_of(response, 401, "UNAUTHORIZED")
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


def test_wrong_credentials_are_401_with_drf_message(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Basic bm9ib2R5Om5vdGhpbmc=")
    response = api_client.get("/t/auth/")
    error = envelope_of(response, 401, "UNAUTHORIZED")
    assert error["message"] == "Invalid username/password."


def test_method_not_allowed_keeps_allow_header(api_client):
    response = api_client.delete("/t/plain/")
    envelope_of(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response["Allow"]


def test_unsupported_media_type_from_a_real_request(api_client):
    response = api_client.post("/t/orders/", "title=x", content_type="text/<script>")
    envelope_of(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_not_acceptable_from_a_real_request_is_still_json(api_client):
    response = api_client.get("/t/plain/", HTTP_ACCEPT="application/xml")
    envelope_of(response, 406, "NOT_ACCEPTABLE")


def test_browsable_api_negotiation_still_answers_json(api_client):
    response = api_client.get("/t/browsable/", HTTP_ACCEPT="text/html")
    error = envelope_of(response, 404, "RESOURCE_NOT_FOUND")
    assert error["message"] == "Campaign 42 does not exist."


def test_unparseable_body_is_400(api_client):
    response = api_client.post("/t/orders/", '{"title": ', content_type="application/json")
    error = envelope_of(response, 400, "VALIDATION_ERROR")
    assert "details" not in error


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def test_validation_details_nested_and_lists(api_client):
    response = post_json(
        api_client,
        "/t/orders/",
        {
            "title": "ok",
            "kind": "z",
            "schedule": {"send_at": "tomorrow"},
            "items": [{"name": "far-too-long", "quantity": 0}, {"name": "a", "quantity": 1}, {}],
            "tags": ["abcd", "ok"],
        },
    )
    error = envelope_of(response, 422, "VALIDATION_ERROR")
    assert error["message"] == "The request body is not valid."
    assert [(d["field"], d["code"]) for d in error["details"]] == [
        ("kind", "INVALID_FORMAT"),
        ("schedule.send_at", "INVALID_FORMAT"),
        ("items[0].name", "INVALID_FORMAT"),
        ("items[0].quantity", "INVALID_FORMAT"),
        ("items[2].name", "MISSING_FIELD"),
        ("items[2].quantity", "MISSING_FIELD"),
        ("tags[0]", "INVALID_FORMAT"),
    ]


def test_validation_top_code_is_the_shared_detail_code(api_client):
    error = envelope_of(post_json(api_client, "/t/orders/", {}), 422, "MISSING_FIELD")
    assert error["details"] == [
        {"field": "title", "code": "MISSING_FIELD", "message": "This field is required."}
    ]
    assert error["message"] == "This field is required."


def test_validation_non_field_error_has_null_field(api_client):
    error = envelope_of(
        post_json(api_client, "/t/orders/", {"title": "forbidden"}), 422, "VALIDATION_ERROR"
    )
    assert error["details"] == [
        {"field": None, "code": "VALIDATION_ERROR", "message": "This title is reserved."}
    ]


def test_validation_many_true_paths_start_with_the_index(api_client):
    error = envelope_of(
        post_json(api_client, "/t/orders/bulk/", [{}, {"title": "x"}, {"title": ""}]),
        422,
        "VALIDATION_ERROR",
    )
    assert [(d["field"], d["code"]) for d in error["details"]] == [
        ("[0].title", "MISSING_FIELD"),
        ("[2].title", "INVALID_FORMAT"),
    ]


def test_camel_case_paths(api_client, settings):
    settings.APIERRORS = {"CAMELIZE_FIELDS": True}
    error = envelope_of(
        post_json(api_client, "/t/orders/", {"title": "x", "schedule": {"send_at": "no"}}),
        422,
        "INVALID_FORMAT",
    )
    assert error["details"][0]["field"] == "schedule.sendAt"


def test_django_validation_error_is_422_with_details(api_client):
    error = envelope_of(api_client.get("/t/drf/django_validation/"), 422, "VALIDATION_ERROR")
    assert error["details"] == [
        {"field": "name", "code": "VALIDATION_ERROR", "message": "Name is taken."}
    ]
    error = envelope_of(api_client.get("/t/drf/django_validation_plain/"), 422, "INVALID_FORMAT")
    assert error["details"] == [{"field": None, "code": "INVALID_FORMAT", "message": "Bad value."}]


def test_unique_integrity_error_is_409_duplicate_and_rolled_back(api_client):
    assert post_json(api_client, "/t/things/", {"name": "a"}).status_code == 201
    response = post_json(api_client, "/t/things/", {"name": "a"})
    envelope_of(response, 409, "DUPLICATE_RESOURCE")
    # The view's atomic block also wrote "audit-a" before failing: nothing of it is kept.
    assert sorted(Thing.objects.values_list("name", flat=True)) == ["a", "audit-a"]


def test_error_rolls_back_atomic_requests(api_client, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    response = api_client.post("/t/write-then-conflict/")
    error = envelope_of(response, 409, "RESOURCE_CONFLICT")
    assert error["message"] == "The thing is locked."
    assert not Thing.objects.exists()


def test_protected_error_is_409_resource_conflict(api_client):
    thing = Thing.objects.create(name="kept")
    Holder.objects.create(thing=thing)
    envelope_of(api_client.delete(f"/t/things/{thing.pk}/"), 409, "RESOURCE_CONFLICT")
    assert Thing.objects.filter(pk=thing.pk).exists()


def test_object_does_not_exist_is_404(api_client):
    envelope_of(api_client.delete("/t/things/987654/"), 404, "RESOURCE_NOT_FOUND")


@pytest.mark.parametrize("debug", [False, True])
def test_uncaught_exception_is_500_without_its_text(api_client, settings, caplog, debug):
    settings.DEBUG = debug
    signalled = []

    def receiver(sender, request, **kwargs):
        signalled.append(request)

    got_request_exception.connect(receiver)
    try:
        with caplog.at_level(logging.ERROR, logger="django.request"):
            response = api_client.get("/t/drf/uncaught/")
    finally:
        got_request_exception.disconnect(receiver)
    error = envelope_of(response, 500, "SERVER_ERROR")
    assert error["message"] == str(codes.SERVER_ERROR.message)
    assert len(signalled) == 1
    assert signalled[0].path == "/t/drf/uncaught/"
    records = [r for r in caplog.records if r.name == "django.request"]
    # Logged once, with the traceback and the request id; Django does not log it again.
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert "hunter2" in str(records[0].exc_info[1])
    assert records[0].request.request_id == error["requestId"]


def test_deliberate_api_exception_500_is_not_reported_as_a_crash(api_client):
    signalled = []

    def receiver(sender, **kwargs):
        signalled.append(sender)

    got_request_exception.connect(receiver)
    try:
        envelope_of(api_client.get("/t/drf/custom_500_api_exception/"), 500, "SERVER_ERROR")
    finally:
        got_request_exception.disconnect(receiver)
    assert signalled == []


class TeapotHandler(ExceptionHandler):
    def format(self, error, request):
        body = super().format(error, request)
        body["error"]["message"] = "Overridden: " + body["error"]["message"]
        return body


def test_handler_class_is_overridable(api_client, settings):
    settings.APIERRORS = {"EXCEPTION_HANDLER_CLASS": "tests.test_handler.TeapotHandler"}
    error = envelope_of(api_client.get("/t/drf/not_found/"), 404, "RESOURCE_NOT_FOUND")
    assert error["message"] == "Overridden: Not found."


def test_doc_url_when_configured(api_client, settings):
    settings.APIERRORS = {"DOCS_URL": "https://apierrors.example/catalogue.html"}
    error = envelope_of(api_client.get("/t/drf/not_found/"), 404, "RESOURCE_NOT_FOUND")
    assert error["docUrl"] == "https://apierrors.example/catalogue.html#resource-not-found"


def test_refusals_before_the_throttles_are_counted_and_carry_headers(api_client):
    remaining = []
    for _ in range(3):
        response = api_client.get("/t/auth/throttled/", REMOTE_ADDR="10.77.0.1")
        envelope_of(response, 401, "UNAUTHORIZED")
        assert response["X-RateLimit-Limit"] == "3"
        assert "Retry-After" not in response
        remaining.append(response["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    # Past the limit, bad credentials are answered 429, not tried once more.
    response = api_client.get("/t/auth/throttled/", REMOTE_ADDR="10.77.0.1")
    error = envelope_of(response, 429, "RATE_LIMIT_EXCEEDED")
    assert response["Retry-After"] == str(error["retryAfter"])
    assert response["X-RateLimit-Remaining"] == "0"


def test_permission_refusal_carries_the_users_headers(api_client):
    User.objects.create_user("plain", password="pw")
    api_client.credentials(HTTP_AUTHORIZATION="Basic cGxhaW46cHc=")
    response = api_client.get("/t/auth/throttled/", REMOTE_ADDR="10.77.0.2")
    envelope_of(response, 403, "FORBIDDEN")
    assert response["X-RateLimit-Limit"] == "3"
    assert response["X-RateLimit-Remaining"] == "2"


def test_success_path_counts_once(api_client):
    User.objects.create_superuser("boss", password="pw")
    api_client.credentials(HTTP_AUTHORIZATION="Basic Ym9zczpwdw==")
    response = api_client.get("/t/auth/throttled/", REMOTE_ADDR="10.77.0.3")
    assert response.status_code == 200
    assert response["X-RateLimit-Remaining"] == "2"


def test_views_throttled_by_other_classes_are_left_as_drf_leaves_them(api_client):
    response = api_client.get("/t/auth/drf-throttled/")
    envelope_of(response, 401, "UNAUTHORIZED")
    assert "X-RateLimit-Limit" not in response


def test_database_data_error_is_400_not_500(api_client):
    # PostgreSQL refuses NUL in text with a DataError; SQLite stores it, so there the
    # lookup simply finds nothing. Either way the answer is never a 500.
    response = api_client.get("/t/things/search/", {"name": "a\x00b"})
    if connection.vendor == "postgresql":
        error = envelope_of(response, 400, "VALIDATION_ERROR")
        assert error["message"] == "The request holds a value that cannot be stored."
    else:
        assert response.status_code == 200


def test_data_error_is_converted():
    from django.db import DataError

    error = ExceptionHandler().convert(DataError("value too long for type character(3)"))
    assert (error.status_code, error.code) == (400, "VALIDATION_ERROR")
    assert "character" not in error.message


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL refuses NUL in text")
def test_unstorable_basic_credentials_are_401(api_client):
    # base64 of "a\x00b:pw": DRF's BasicAuthentication looks the username up as sent.
    api_client.credentials(HTTP_AUTHORIZATION="Basic YQBiOnB3")
    response = api_client.get("/t/auth/")
    envelope_of(response, 401, "UNAUTHORIZED")
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


@pytest.mark.parametrize("headers", [True, False])
def test_refusal_inside_the_view_is_counted_once(api_client, settings, headers):
    settings.APIERRORS = {"RATELIMIT_HEADERS": headers}
    statuses = [
        api_client.get("/t/auth/refused-inside/", REMOTE_ADDR="10.77.0.4").status_code
        for _ in range(4)
    ]
    # Three per minute: counted twice per request, the second would already be a 429.
    assert statuses == [403, 403, 403, 429]


def test_retry_after_rounding_is_the_rate_limit_contracts():
    from apierrors.ratelimit import headers

    assert retry_after_seconds is headers.retry_after_seconds


@pytest.mark.parametrize(
    ("status", "code"),
    [(418, "HTTP_ERROR"), (409, "RESOURCE_CONFLICT"), (504, "HTTP_ERROR"), (400, "BAD_REQUEST")],
)
def test_error_for_status_keeps_the_status(status, code):
    error = ExceptionHandler().error_for_status(status)
    assert (error.status_code, error.code) == (status, code)
    assert error.message == str(codes.CATALOGUE[code].message)


def test_another_packages_status_is_kept_with_the_code_standing_for_it(api_client):
    error = envelope_of(api_client.get("/t/drf/teapot/"), 418, "HTTP_ERROR")
    assert error["message"] == "No coffee here."


def test_headers_repeat_the_body(api_client):
    response = api_client.get("/t/drf/throttled/", HTTP_X_REQUEST_ID="req_abc-1")
    error = envelope_of(response, 429, "RATE_LIMIT_EXCEEDED")
    assert response["X-Request-ID"] == error["requestId"] == "req_abc-1"
    assert response["Retry-After"] == str(error["retryAfter"]) == "13"


def test_a_warm_error_path_follows_setting_changes(api_client, settings):
    # Every setting the error path keeps (envelope_settings) is read again after a change.
    api_client.get("/t/code/RESOURCE_NOT_FOUND/")
    settings.APIERRORS = {
        "DOCS_URL": "https://docs.example/errors/",
        "REQUEST_ID_HEADER": "X-Trace",
        "EXCEPTION_HANDLER_CLASS": "tests.test_handler.ShoutingHandler",
    }
    response = api_client.get("/t/code/RESOURCE_NOT_FOUND/", HTTP_X_TRACE="trace-1")
    error = response.json()["error"]
    assert error["docUrl"] == "https://docs.example/errors/#resource-not-found"
    assert response["X-Trace"] == error["requestId"] == "trace-1"
    assert "X-Request-ID" not in response
    assert error["message"] == error["message"].upper()
    settings.APIERRORS = {}
    error = api_client.get("/t/code/RESOURCE_NOT_FOUND/").json()["error"]
    assert "docUrl" not in error
    assert error["message"] != error["message"].upper()


class ShoutingHandler(ExceptionHandler):
    def format(self, error, request):
        body = super().format(error, request)
        body["error"]["message"] = body["error"]["message"].upper()
        return body


def test_a_warm_error_path_answers_in_the_active_language(api_client):
    from django.utils import translation

    english = api_client.get("/t/code/RESOURCE_NOT_FOUND/").json()["error"]["message"]
    with translation.override("fr"):
        french = api_client.get("/t/code/RESOURCE_NOT_FOUND/").json()["error"]["message"]
    with translation.override("de"):
        german = api_client.get("/t/code/RESOURCE_NOT_FOUND/").json()["error"]["message"]
    again = api_client.get("/t/code/RESOURCE_NOT_FOUND/").json()["error"]["message"]
    assert english == again == "The requested resource does not exist."
    assert len({english, french, german}) == 3


def test_the_request_id_header_without_the_middleware(settings):
    # The handler sends the id itself when no APIErrorsMiddleware will.
    from rest_framework.test import APIRequestFactory

    from tests.testapp.views import RaiseCodeView

    settings.MIDDLEWARE = []
    request = APIRequestFactory().get("/t/code/RESOURCE_NOT_FOUND/")
    response = RaiseCodeView.as_view()(request, code="RESOURCE_NOT_FOUND").render()
    assert response["X-Request-ID"] == json.loads(response.content)["error"]["requestId"]

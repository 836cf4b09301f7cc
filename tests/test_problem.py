"""Problem details (RFC 9457): the conversion, the Accept rule and answers end to end."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIClient

from apierrors import codes, envelope
from apierrors.problem import (
    MEDIA_TYPE,
    from_envelope,
    negotiate,
    prefers_problem_details,
    reason_phrase,
    vary_on_accept,
    wants_problem_details,
)
from tests.openapi_app import exceptions as _project_codes  # noqa: F401  (registers QUOTA)

REQUEST_ID = "req_8f14e45fceea167a5a36dedd"


def body(code: str = "RESOURCE_NOT_FOUND", **members: Any) -> dict[str, Any]:
    error = {"code": code, "message": "Note 42 does not exist.", "requestId": REQUEST_ID}
    return {"error": {**error, **members}}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/*", False),
        ("application/json", False),
        ("application/problem+json", True),
        ("APPLICATION/Problem+JSON", True),
        ("application/json, application/problem+json", True),
        ("application/problem+json, application/json", True),
        ("application/problem+json;q=0", False),
        ("application/problem+json;q=0.5, application/json", False),
        ("application/json;q=0.8, application/problem+json;q=0.9", True),
        ("application/problem+json;q=nonsense", False),
        ("application/problem+json;q=2", False),
        ("text/html, application/problem+json;q=0.1", True),
    ],
)
def test_accept_rule(accept: str | None, expected: bool) -> None:
    assert prefers_problem_details(accept) is expected


def test_about_blank_uses_the_reason_phrase() -> None:
    assert from_envelope(body(), 404, instance="/api/v1/notes/42/") == {
        "type": "about:blank",
        "title": HTTPStatus(404).phrase,
        "status": 404,
        "detail": "Note 42 does not exist.",
        "instance": "/api/v1/notes/42/",
        "code": "RESOURCE_NOT_FOUND",
        "requestId": REQUEST_ID,
    }


def test_doc_url_is_the_type_and_the_code_titles_it() -> None:
    url = "https://docs.example.com/catalogue/#resource-not-found"
    problem = from_envelope(body(docUrl=url), 404)
    assert problem["type"] == url
    assert problem["title"] == str(codes.RESOURCE_NOT_FOUND.message)
    assert "instance" not in problem


def test_project_code_titles_with_its_default_message() -> None:
    problem = from_envelope(body("QUOTA_EXHAUSTED", docUrl="https://x.test/#quota"), 402)
    assert problem["title"] == "Your plan's quota is used up."


def test_details_become_errors_and_retry_after_is_kept() -> None:
    details = [{"field": "title", "code": "MISSING_FIELD", "message": "This field is required."}]
    problem = from_envelope(body("MISSING_FIELD", details=details), 422)
    assert problem["errors"] == details
    assert from_envelope(body("RATE_LIMIT_EXCEEDED", retryAfter=7), 429)["retryAfter"] == 7
    assert "errors" not in from_envelope(body(), 404)


def test_unknown_status_phrase() -> None:
    assert reason_phrase(599) == "Error"


def test_setting_off_keeps_the_envelope(rf: RequestFactory) -> None:
    request = rf.get("/x/", HTTP_ACCEPT=MEDIA_TYPE)
    assert not wants_problem_details(request)
    assert negotiate(body(), 404, request) == (body(), "application/json")


def test_negotiate_with_setting_on(settings: Any, rf: RequestFactory) -> None:
    settings.APIERRORS = {"PROBLEM_DETAILS": True}
    request = rf.get("/api/v1/notes/42/?token=secret", HTTP_ACCEPT=MEDIA_TYPE)
    converted, content_type = negotiate(body(), 404, request)
    assert content_type == MEDIA_TYPE
    assert converted["instance"] == "/api/v1/notes/42/"
    assert negotiate(body(), 404, rf.get("/x/"))[1] == "application/json"
    assert negotiate(body(), 404, None) == (body(), "application/json")


def test_vary_on_accept_only_when_enabled(settings: Any) -> None:
    response = HttpResponse()
    vary_on_accept(response)
    assert not response.has_header("Vary")
    settings.APIERRORS = {"PROBLEM_DETAILS": True}
    vary_on_accept(response)
    assert response["Vary"] == "Accept"


def test_problem_matches_the_envelope_of_the_same_failure() -> None:
    envelope_body = envelope.build(
        code="INVALID_OPERATOR", message="m", request_id=REQUEST_ID, retry_after=None
    )
    problem = from_envelope(envelope_body, 422)
    assert (problem["code"], problem["detail"], problem["requestId"]) == (
        "INVALID_OPERATOR",
        "m",
        REQUEST_ID,
    )


# End to end, through a handler carrying the hook -------------------------------------------


@pytest.fixture
def problem_api(settings: Any) -> APIClient:
    settings.APIERRORS = {"PROBLEM_DETAILS": True}
    return APIClient()


def test_drf_error_as_problem(problem_api: APIClient) -> None:
    response = problem_api.get("/t/openapi/missing/", HTTP_ACCEPT=MEDIA_TYPE)
    assert response.status_code == 404
    assert response["Content-Type"] == MEDIA_TYPE
    assert "Accept" in response["Vary"]
    data = response.json()
    assert data == {
        "type": "about:blank",
        "title": HTTPStatus(404).phrase,
        "status": 404,
        "detail": "Note 42 does not exist.",
        "instance": "/t/openapi/missing/",
        "code": "RESOURCE_NOT_FOUND",
        "requestId": response["X-Request-ID"],
    }


def test_others_keep_the_envelope(problem_api: APIClient) -> None:
    response = problem_api.get("/t/openapi/missing/", HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert "Accept" in response["Vary"]


def test_validation_problem_lists_errors(problem_api: APIClient) -> None:
    response = problem_api.post(
        "/t/openapi/validated/",
        {"body": "x"},
        format="json",
        HTTP_ACCEPT=f"application/json, {MEDIA_TYPE}",
    )
    assert response.status_code == 422
    assert response["Content-Type"] == MEDIA_TYPE
    data = response.json()
    assert data["code"] == "MISSING_FIELD"
    assert data["errors"] == [
        {"field": "title", "code": "MISSING_FIELD", "message": "This field is required."}
    ]


def test_unmatched_url_as_problem(problem_api: APIClient, settings: Any) -> None:
    settings.APIERRORS = {**settings.APIERRORS, "DOCS_URL": "https://docs.example.com/c/"}
    response = problem_api.get("/t/openapi/no-such-thing/", HTTP_ACCEPT=MEDIA_TYPE)
    assert response.status_code == 404
    assert response["Content-Type"] == MEDIA_TYPE
    data = response.json()
    assert data["type"] == "https://docs.example.com/c/#resource-not-found"
    assert data["title"] == str(codes.RESOURCE_NOT_FOUND.message)
    assert data["requestId"] == response["X-Request-ID"]


def test_without_the_negotiation_class_problem_json_alone_gets_406(
    problem_api: APIClient,
) -> None:
    # PingView keeps DRF's negotiation: no renderer produces problem+json, so it refuses
    # the request before the view runs, and says so as a problem document.
    response = problem_api.get("/t/openapi/ping/", HTTP_ACCEPT=MEDIA_TYPE)
    assert response.status_code == 406
    assert response["Content-Type"] == MEDIA_TYPE
    assert response.json()["code"] == "NOT_ACCEPTABLE"


def test_negotiation_class_answers_successes_as_json(problem_api: APIClient) -> None:
    response = problem_api.post(
        "/t/openapi/validated/", {"title": "t"}, format="json", HTTP_ACCEPT=MEDIA_TYPE
    )
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"


def test_negotiation_class_still_refuses_other_media_types(problem_api: APIClient) -> None:
    response = problem_api.get("/t/openapi/missing/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"


def test_negotiation_class_is_plain_drf_with_the_setting_off(settings: Any) -> None:
    settings.APIERRORS = {}
    response = APIClient().get("/t/openapi/missing/", HTTP_ACCEPT=MEDIA_TYPE)
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"

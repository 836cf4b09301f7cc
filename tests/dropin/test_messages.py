"""What a client needs from DRF's and the project's exceptions survives the envelope."""

from __future__ import annotations

import json

import pytest

from apierrors import codes

pytestmark = pytest.mark.django_db


def error_of(api_client, name):
    response = api_client.get(f"/t/dropin/raise/{name}/")
    return response.status_code, response.json()["error"]


def test_a_json_parse_error_keeps_the_parser_position(api_client):
    body = '{"a": 1,}'
    # Python versions place this error differently (column 9, or 8 from 3.13 on).
    with pytest.raises(json.JSONDecodeError) as parsed:
        json.loads(body)
    position = f"line {parsed.value.lineno} column {parsed.value.colno}"
    response = api_client.post("/t/dropin/parse/", data=body, content_type="application/json")
    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == "VALIDATION_ERROR"
    assert position in error["message"]


def test_the_nested_too_deeply_message_of_apierrors_parser_is_kept(api_client):
    response = api_client.post(
        "/t/dropin/parse/", data="[" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The request body is nested too deeply."


@pytest.mark.parametrize(
    ("name", "status", "code", "message"),
    [
        ("parse_error", 400, "VALIDATION_ERROR", "The signature block is missing."),
        ("not_acceptable", 406, "NOT_ACCEPTABLE", "Invalid version in Accept header."),
        (
            "not_acceptable_default",
            406,
            "NOT_ACCEPTABLE",
            "Could not satisfy the request Accept header.",
        ),
        (
            "throttled",
            429,
            "RATE_LIMIT_EXCEEDED",
            "Export quota used up. Expected available in 30 seconds.",
        ),
        ("method_not_allowed_own", 405, "METHOD_NOT_ALLOWED", "Campaigns are final."),
        ("gone", 410, "GONE", "This campaign was archived."),
        ("teapot", 418, "HTTP_ERROR", "No coffee here."),
    ],
)
def test_messages_the_project_or_drf_wrote_are_kept(api_client, name, status, code, message):
    got_status, error = error_of(api_client, name)
    assert (got_status, error["code"], error["message"]) == (status, code, message)


@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("method_not_allowed", codes.METHOD_NOT_ALLOWED),
        ("unsupported", codes.UNSUPPORTED_MEDIA_TYPE),
    ],
)
def test_drf_messages_that_quote_the_request_are_replaced(api_client, name, entry):
    status, error = error_of(api_client, name)
    assert (status, error["code"], error["message"]) == (
        entry.status,
        entry.code,
        str(entry.message),
    )


def test_drf_default_throttled_message_is_the_contract_sentence(api_client):
    status, error = error_of(api_client, "throttled_default")
    assert status == 429
    assert error["message"] == "Too many requests. Please retry after 30 seconds."
    assert error["retryAfter"] == 30


def test_an_api_exception_with_a_dict_detail_answers_details(api_client):
    status, error = error_of(api_client, "dict_detail")
    assert status == 409
    assert error["code"] == "RESOURCE_CONFLICT"
    assert error["details"] == [{"field": "slug", "code": "VALIDATION_ERROR", "message": "taken"}]


def test_an_api_exception_with_a_list_detail_answers_details(api_client):
    status, error = error_of(api_client, "list_detail")
    assert status == 409
    assert [entry["message"] for entry in error["details"]] == ["first", "second"]


def test_a_500_with_a_dict_detail_says_nothing(api_client):
    status, error = error_of(api_client, "dict_detail_500")
    assert status == 500
    assert error["code"] == "SERVER_ERROR"
    assert "details" not in error
    assert error["message"] == str(codes.SERVER_ERROR.message)


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [("validation_402", 402, "PAYMENT_REQUIRED"), ("validation_409", 409, "RESOURCE_CONFLICT")],
)
def test_a_validation_error_subclass_keeps_its_status(api_client, name, status, code):
    got_status, error = error_of(api_client, name)
    assert (got_status, error["code"]) == (status, code)
    assert error["details"]


@pytest.mark.parametrize(
    "name", ["gone", "teapot", "unavailable", "validation_402", "validation_409", "dict_detail"]
)
def test_a_code_is_never_sent_with_a_foreign_status(api_client, name):
    status, error = error_of(api_client, name)
    entry = codes.CATALOGUE[error["code"]]
    assert entry.status == status or entry.any_status


@pytest.mark.parametrize("name", ["empty_validation", "empty_detail"])
def test_an_empty_message_is_the_catalogue_sentence(api_client, name):
    _, error = error_of(api_client, name)
    assert error["message"] == str(codes.CATALOGUE[error["code"]].message)
    for entry in error.get("details", []):
        assert entry["message"]


def test_keys_holding_dots_or_brackets_are_escaped_in_field_paths(api_client):
    _, error = error_of(api_client, "dotted_keys")
    fields = [entry["field"] for entry in error["details"]]
    assert fields == ["d.a\\.b", "d.c\\[0\\]", "d.back\\\\slash", "d\\.a.b"]
    assert len(set(fields)) == len(fields)

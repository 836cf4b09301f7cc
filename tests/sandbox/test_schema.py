"""The sandbox's OpenAPI schema: every operation's statuses and codes, the components, the
rate-limit headers, and the validators' verdicts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.management.commands.spectacular import Command as SpectacularCommand
from openapi_spec_validator import validate

from apierrors import codes
from sandbox.segments import rules

Schema = dict[str, Any]

VALIDATION = ["VALIDATION_ERROR", "INVALID_FIELD", "MISSING_FIELD", "INVALID_FORMAT"]
AUTH = {401: ["UNAUTHORIZED", "TOKEN_EXPIRED"]}
COMMON = {406: ["NOT_ACCEPTABLE"], 429: ["RATE_LIMIT_EXCEEDED"], 500: ["SERVER_ERROR"]}
BODY = {400: ["VALIDATION_ERROR"], 415: ["UNSUPPORTED_MEDIA_TYPE"], 422: VALIDATION}
RULES = ["INVALID_SEGMENT_RULE", "UNKNOWN_FIELD", "INVALID_OPERATOR"]
SCOPE = ["INVALID_SCOPE"]
OWNER = ["FORBIDDEN", "INVALID_SCOPE"]
MISSING = {404: ["RESOURCE_NOT_FOUND"]}

# Every operation, its success status and the codes of each error status it documents.
EXPECTED: dict[str, tuple[int, dict[int, list[str]]]] = {
    "POST /api/v1/auth/token/": (200, {**BODY, 401: ["UNAUTHORIZED"], **COMMON}),
    "POST /api/v1/auth/token/refresh/": (200, {**BODY, **AUTH, **COMMON}),
    "GET /api/v1/segments/": (200, {**AUTH, 403: SCOPE, **MISSING, **COMMON}),
    "POST /api/v1/segments/": (
        201,
        {
            **BODY,
            **AUTH,
            403: SCOPE,
            409: ["DUPLICATE_RESOURCE"],
            422: [*VALIDATION, *RULES],
            **COMMON,
        },
    ),
    "GET /api/v1/segments/{id}/": (200, {**AUTH, 403: SCOPE, **MISSING, **COMMON}),
    "PATCH /api/v1/segments/{id}/": (
        200,
        {
            **BODY,
            **AUTH,
            403: OWNER,
            **MISSING,
            409: ["DUPLICATE_RESOURCE"],
            422: [*VALIDATION, *RULES],
            **COMMON,
        },
    ),
    "DELETE /api/v1/segments/{id}/": (
        204,
        {**AUTH, 403: OWNER, **MISSING, 409: ["RESOURCE_CONFLICT"], **COMMON},
    ),
    "POST /api/v1/segments/validate/": (
        200,
        {**BODY, **AUTH, 403: SCOPE, 422: [*VALIDATION, *RULES], **COMMON},
    ),
    "GET /api/v1/segments/fields/": (200, {**AUTH, 403: SCOPE, **COMMON}),
    "GET /api/v1/campaigns/": (200, {**AUTH, 403: SCOPE, **MISSING, **COMMON}),
    "POST /api/v1/campaigns/": (
        201,
        {**BODY, **AUTH, 403: SCOPE, 409: ["DUPLICATE_RESOURCE"], **COMMON},
    ),
    "GET /api/v1/campaigns/{id}/": (200, {**AUTH, 403: SCOPE, **MISSING, **COMMON}),
    "PATCH /api/v1/campaigns/{id}/": (
        200,
        {
            **BODY,
            **AUTH,
            403: OWNER,
            **MISSING,
            409: ["DUPLICATE_RESOURCE", "RESOURCE_CONFLICT", "CAMPAIGN_ALREADY_ACTIVE"],
            422: [*VALIDATION, "SEGMENT_REQUIRED"],
            **COMMON,
        },
    ),
    "DELETE /api/v1/campaigns/{id}/": (
        204,
        {
            **AUTH,
            403: OWNER,
            **MISSING,
            409: ["CAMPAIGN_ALREADY_ACTIVE", "RESOURCE_CONFLICT"],
            **COMMON,
        },
    ),
    "POST /api/v1/campaigns/{id}/schedule/": (
        200,
        {
            **BODY,
            **AUTH,
            403: OWNER,
            **MISSING,
            409: ["RESOURCE_CONFLICT", "CAMPAIGN_ALREADY_ACTIVE"],
            422: [*VALIDATION, "SEGMENT_REQUIRED", "INVALID_SCHEDULE"],
            **COMMON,
        },
    ),
    "POST /api/v1/campaigns/{id}/activate/": (
        200,
        {
            **BODY,
            **AUTH,
            403: OWNER,
            **MISSING,
            409: ["RESOURCE_CONFLICT", "CAMPAIGN_ALREADY_ACTIVE", "CAMPAIGN_NOT_SCHEDULED"],
            422: [*VALIDATION, "SEGMENT_REQUIRED"],
            **COMMON,
        },
    ),
    "POST /api/v1/campaigns/{id}/pause/": (
        200,
        {**BODY, **AUTH, 403: OWNER, **MISSING, 409: ["RESOURCE_CONFLICT"], **COMMON},
    ),
    "GET /api/v1/social/connections/": (200, {**AUTH, 403: SCOPE, **MISSING, **COMMON}),
    "POST /api/v1/social/connections/": (201, {**BODY, **AUTH, 403: SCOPE, **COMMON}),
    "GET /api/v1/social/connections/{id}/": (200, {**AUTH, 403: SCOPE, **MISSING, **COMMON}),
    "POST /api/v1/social/connections/{id}/posts/": (
        201,
        {
            **BODY,
            **AUTH,
            403: SCOPE,
            **MISSING,
            409: ["CONNECTION_EXPIRED"],
            422: [*VALIDATION, "CONTENT_REJECTED"],
            502: ["PUBLISHING_FAILED"],
            **COMMON,
        },
    ),
}


@pytest.fixture(scope="module")
def schema() -> Schema:
    result: Schema = SchemaGenerator(urlconf="sandbox.urls").get_schema(request=None, public=True)
    return result


def operations(schema: Schema) -> dict[str, Schema]:
    return {
        f"{method.upper()} {url}": operation
        for url, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def resolved(schema: Schema, response: Schema) -> Schema:
    if "$ref" in response:
        name = response["$ref"].rsplit("/", 1)[1]
        found: Schema = schema["components"]["responses"][name]
        return found
    return response


def codes_of(response: Schema) -> list[str]:
    narrowing = response["content"]["application/json"]["schema"]["allOf"][1]
    found: list[str] = narrowing["properties"]["error"]["properties"]["code"]["enum"]
    return found


def test_every_operation_is_documented(schema: Schema) -> None:
    assert sorted(operations(schema)) == sorted(EXPECTED)


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_statuses_and_codes(schema: Schema, label: str) -> None:
    success, errors = EXPECTED[label]
    responses = operations(schema)[label]["responses"]
    assert sorted(int(status) for status in responses) == sorted([success, *errors])
    for status, expected_codes in errors.items():
        response = resolved(schema, responses[str(status)])
        assert sorted(codes_of(response)) == sorted(expected_codes), status
        examples = response["content"]["application/json"]["examples"]
        assert sorted(examples) == sorted(expected_codes), status


def test_components(schema: Schema) -> None:
    components = schema["components"]
    assert {"ErrorEnvelope", "ApiError", "ErrorCode", "FieldProblem"} <= set(components["schemas"])
    assert {"NotFound", "RateLimited", "ServerError", "NotAcceptable"} <= set(
        components["responses"]
    )
    assert {"X-Request-ID", "X-RateLimit-Limit", "Retry-After", "WWW-Authenticate"} <= set(
        components["headers"]
    )
    assert "jwtAuth" in components["securitySchemes"]


def test_code_enum_lists_what_the_operations_answer(schema: Schema) -> None:
    answered = {
        code for _, errors in EXPECTED.values() for found in errors.values() for code in found
    }
    enum = schema["components"]["schemas"]["ErrorCode"]["enum"]
    assert enum == [code for code in codes.CATALOGUE if code in answered]
    assert "METHOD_NOT_ALLOWED" not in enum


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_throttled_operations_document_rate_limit_headers(schema: Schema, label: str) -> None:
    # Every sandbox view is throttled: its successes and its 429 carry the headers.
    success, _ = EXPECTED[label]
    responses = operations(schema)[label]["responses"]
    rate_limit = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
    assert rate_limit <= set(responses[str(success)]["headers"])
    throttled = resolved(schema, responses["429"])
    assert {*rate_limit, "Retry-After", "X-Request-ID"} <= set(throttled["headers"])
    narrowing = throttled["content"]["application/json"]["schema"]["allOf"][1]
    assert narrowing["properties"]["error"]["required"] == ["retryAfter"]


def test_authentication_answers_document_the_challenge(schema: Schema) -> None:
    for label, operation in operations(schema).items():
        response = resolved(schema, operation["responses"]["401"])
        assert "WWW-Authenticate" in response["headers"], label


def test_success_bodies_follow_the_serializers(schema: Schema) -> None:
    components = schema["components"]["schemas"]
    campaign = components["Campaign"]["properties"]
    assert campaign["sendAt"]["nullable"] is True
    assert campaign["segmentId"]["nullable"] is True
    assert components["Campaign"]["additionalProperties"] is False
    status = components[campaign["status"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert status["enum"] == ["draft", "scheduled", "active", "paused", "completed"]
    request = components["CampaignRequest"]["properties"]
    assert request["segmentId"]["minimum"] == 1
    assert components["Segment"]["properties"]["rules"] == {
        "$ref": "#/components/schemas/SegmentRule"
    }


def test_rule_tree_is_a_recursive_component(schema: Schema) -> None:
    components = schema["components"]["schemas"]
    rule = components["SegmentRule"]
    assert [item["$ref"].rsplit("/", 1)[1] for item in rule["oneOf"]] == [
        "SegmentAllGroup",
        "SegmentAnyGroup",
        "SegmentNotGroup",
        "SegmentCondition",
    ]
    assert components["SegmentAllGroup"]["properties"]["all"]["items"] == {
        "$ref": "#/components/schemas/SegmentRule"
    }
    assert components["SegmentNotGroup"]["properties"]["not"] == {
        "$ref": "#/components/schemas/SegmentRule"
    }
    # Each (field, operator) pair of the catalogue is in exactly one condition shape.
    pairs: list[tuple[str, str]] = []
    for shape in components["SegmentCondition"]["oneOf"]:
        # Every shape is a named component: client generators cannot name inline members.
        props = components[shape["$ref"].rsplit("/", 1)[1]]["properties"]
        fields = components[props["field"]["$ref"].rsplit("/", 1)[1]]["enum"]
        operators = components[props["operator"]["$ref"].rsplit("/", 1)[1]]["enum"]
        pairs += [(field, operator) for field in fields for operator in operators]
    expected = [(name, op) for name, entry in rules.FIELDS.items() for op in entry.operators]
    assert sorted(pairs) == sorted(expected)


def test_request_text_prefills_plain_text(schema: Schema) -> None:
    # Swagger UI makes random text up from a pattern where a string has no example; every
    # request text documents the blank text it refuses, and an example its pattern accepts.
    components = schema["components"]["schemas"]
    name = components["SegmentRequest"]["properties"]["name"]
    assert name["minLength"] == 1
    assert not re.search(name["pattern"], "   ")
    checked = 0
    for component_name, component in components.items():
        if not component_name.endswith("Request"):
            continue
        for prop_name, prop in component.get("properties", {}).items():
            if prop.get("type") == "string" and "pattern" in prop:
                assert re.search(prop["pattern"], prop["example"]), (component_name, prop_name)
                assert len(prop["example"]) <= prop.get("maxLength", 10**6)
                checked += 1
    assert checked >= 5


def test_pagination_parameters_start_at_one(schema: Schema) -> None:
    parameters = operations(schema)["GET /api/v1/campaigns/"]["parameters"]
    by_name = {parameter["name"]: parameter["schema"] for parameter in parameters}
    assert by_name["page"] == {"type": "integer", "minimum": 1}
    assert by_name["pageSize"] == {"type": "integer", "minimum": 1}


def test_schema_passes_an_openapi_validator(schema: Schema) -> None:
    validate(schema)


def test_spectacular_validates_without_warnings(tmp_path: Any) -> None:
    output = tmp_path / "schema.yaml"
    call_command(
        SpectacularCommand(),
        "--urlconf",
        "sandbox.urls",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(output),
    )
    assert "SegmentRule" in output.read_text()


@pytest.mark.django_db
def test_served_schema_documents_the_same_operations(schema: Schema, anonymous: Any) -> None:
    # The test project serves the sandbox beside the test suite's own views (so operation
    # ids and tags differ); the answers documented are the same.
    response = anonymous.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    served = response.json()
    for url, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert served["paths"][url][method]["responses"] == operation["responses"], url

"""The OpenAPI schema of apierrors.openapi.AutoSchema, over the views of tests/openapi_app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.management.commands.spectacular import Command as SpectacularCommand
from drf_spectacular.utils import extend_schema
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from rest_framework.response import Response
from rest_framework.serializers import CharField, ModelSerializer, Serializer
from rest_framework.validators import UniqueTogetherValidator, UniqueValidator
from rest_framework.views import APIView
from schemathesis import GenerationMode

import apierrors.declarations
from apierrors import codes, request_id
from apierrors import exceptions as errors
from apierrors.docs import EXAMPLE_REQUEST_ID
from apierrors.openapi import (
    NOT_BLANK_PATTERN,
    AutoSchema,
    ErrorDocument,
    Outcome,
    declared_errors,
    raises,
)
from apierrors.openapi.bodies import checks_uniqueness, text_example
from tests import schemathesis_support as support
from tests.openapi_app import urls, views
from tests.openapi_app.serializers import ThingSerializer
from tests.testapp.models import Holder, Thing

Schema = dict[str, Any]

RATE_LIMIT_HEADERS = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
STANDARD_RESPONSES = {
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "MethodNotAllowed",
    "NotAcceptable",
    "UnsupportedMediaType",
    "ValidationFailed",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
}
VALIDATION_CODES = ["VALIDATION_ERROR", "MISSING_FIELD", "INVALID_FORMAT"]


def _unique() -> UniqueValidator:
    return UniqueValidator(queryset=Thing.objects.all())


def _together(**kwargs: Any) -> UniqueTogetherValidator:
    return UniqueTogetherValidator(queryset=Thing.objects.all(), fields=["name"], **kwargs)


def _model_serializer(model: type[Any], **meta: Any) -> type[ModelSerializer[Any]]:
    attributes = {"model": model, "fields": "__all__", **meta}
    return type("Model", (ModelSerializer,), {"Meta": type("Meta", (), attributes)})


@pytest.fixture
def schema_class(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_SCHEMA_CLASS": "apierrors.openapi.AutoSchema",
    }


@pytest.fixture
def generate(schema_class: None) -> Callable[[], Schema]:
    def run() -> Schema:
        generator = SchemaGenerator(
            patterns=[path("t/openapi/", include("tests.openapi_app.urls"))]
        )
        result: Schema = generator.get_schema(request=None, public=True)
        return result

    return run


@pytest.fixture
def schema(generate: Callable[[], Schema]) -> Schema:
    return generate()


def operation(schema: Schema, method: str, url: str) -> Schema:
    result: Schema = schema["paths"][f"/t/openapi/{url}"][method.lower()]
    return result


def response(schema: Schema, method: str, url: str, status: int) -> Schema:
    found: Schema = operation(schema, method, url)["responses"][str(status)]
    if "$ref" in found:
        found = schema["components"]["responses"][found["$ref"].rsplit("/", 1)[1]]
    return found


def statuses(schema: Schema, method: str, url: str) -> list[int]:
    return [int(key) for key in operation(schema, method, url)["responses"]]


def error_codes(found: Schema, media_type: str = "application/json") -> list[str]:
    narrowing = found["content"][media_type]["schema"]["allOf"][1]
    if media_type == "application/json":
        narrowing = narrowing["properties"]["error"]
    codes_enum: list[str] = narrowing["properties"]["code"]["enum"]
    return codes_enum


def codes_for(schema: Schema, method: str, url: str, status: int) -> list[str]:
    return error_codes(response(schema, method, url, status))


def component_ref(schema: Schema, method: str, url: str, status: int) -> str | None:
    ref = operation(schema, method, url)["responses"][str(status)].get("$ref")
    return None if ref is None else str(ref).rsplit("/", 1)[1]


def header_names(found: Schema) -> set[str]:
    return set(found.get("headers", {}))


def iter_responses(schema: Schema) -> Iterator[tuple[str, Schema]]:
    for url, operations in schema["paths"].items():
        for method, op in operations.items():
            for status, found in op["responses"].items():
                if "$ref" in found:
                    found = schema["components"]["responses"][found["$ref"].rsplit("/", 1)[1]]
                yield f"{method.upper()} {url} {status}", found
    for name, found in schema["components"].get("responses", {}).items():
        yield f"component {name}", found


# Components -------------------------------------------------------------------------------


def test_error_components(schema: Schema) -> None:
    components = schema["components"]
    assert {"ErrorEnvelope", "ApiError", "ErrorCode", "FieldProblem"} <= set(components["schemas"])
    # No view answers 405: its response and the Allow header are not components.
    assert set(components["responses"]) == STANDARD_RESPONSES - {"MethodNotAllowed"}
    assert set(components["headers"]) == {
        "X-Request-ID",
        "Retry-After",
        "WWW-Authenticate",
        *RATE_LIMIT_HEADERS,
    }
    envelope = components["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    assert envelope["additionalProperties"] is False
    error = components["schemas"]["ApiError"]
    assert set(error["properties"]) == {
        "code",
        "message",
        "requestId",
        "details",
        "retryAfter",
        "docUrl",
    }
    assert error["required"] == ["code", "message", "requestId"]
    field = components["schemas"]["FieldProblem"]["properties"]["field"]
    assert field["nullable"] is True


def test_code_enum_lists_the_codes_the_operations_answer(schema: Schema) -> None:
    documented = {
        code
        for where, found in iter_responses(schema)
        if not where.startswith("component") and where.rsplit(" ", 1)[1][0] in "45"
        for code in error_codes(found)
    }
    enum = schema["components"]["schemas"]["ErrorCode"]["enum"]
    assert set(enum) == documented
    # Catalogue order, then the project's codes; none that no view answers.
    catalogue = [code for code in codes.CATALOGUE if code in documented]
    assert enum == [*catalogue, "QUOTA_EXHAUSTED"]
    assert "CAMPAIGN_NOT_SCHEDULED" not in enum
    assert "METHOD_NOT_ALLOWED" not in enum


def test_components_only_for_what_the_operations_answer(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_SCHEMA_CLASS": "apierrors.openapi.AutoSchema",
    }
    ping = [found for found in urls.urlpatterns if str(found.pattern) == "ping/"]
    generator = SchemaGenerator(patterns=[path("t/openapi/", include(ping))])
    components = generator.get_schema(request=None, public=True)["components"]
    assert components["schemas"]["ErrorCode"]["enum"] == ["NOT_ACCEPTABLE", "SERVER_ERROR"]
    assert set(components["responses"]) == {"NotAcceptable", "ServerError"}
    assert set(components["headers"]) == {"X-Request-ID"}


def test_declared_405_registers_its_response_and_header(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_SCHEMA_CLASS": "apierrors.openapi.AutoSchema",
    }

    @raises(errors.MethodNotAllowed)
    class Fixed(views.PingView):
        pass

    generator = SchemaGenerator(patterns=[path("t/openapi/fixed/", Fixed.as_view())])
    schema = generator.get_schema(request=None, public=True)
    assert component_ref(schema, "GET", "fixed/", 405) == "MethodNotAllowed"
    assert "Allow" in schema["components"]["headers"]
    assert "METHOD_NOT_ALLOWED" in schema["components"]["schemas"]["ErrorCode"]["enum"]


def test_no_component_per_field_or_enum(schema: Schema) -> None:
    # drf-spectacular's enum hook must find nothing to split out of the error components.
    names = set(schema["components"]["schemas"])
    ours = {"ErrorEnvelope", "ApiError", "ErrorCode", "FieldProblem"}
    serializers = {
        n for n in names if n.startswith(("Note", "Report", "Thing", "Paginated", "Patched"))
    }
    assert names == ours | serializers


def test_component_names_do_not_depend_on_the_views(generate: Callable[[], Schema]) -> None:
    first, second = generate(), generate()
    assert first["components"]["responses"] == second["components"]["responses"]
    assert first["components"]["headers"] == second["components"]["headers"]


# Statuses per operation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("GET", "ping/", [200, 406, 500]),
        ("GET", "missing/", [200, 404, 406, 500]),
        ("POST", "validated/", [201, 400, 406, 415, 422, 500]),
        ("GET", "notes/", [200, 401, 404, 406, 429, 500]),
        ("POST", "notes/", [201, 400, 401, 406, 415, 422, 429, 500]),
        ("GET", "notes/{id}/", [200, 401, 403, 404, 406, 409, 500]),
        ("PATCH", "notes/{id}/", [200, 400, 401, 403, 404, 406, 409, 415, 422, 500]),
        ("DELETE", "notes/{id}/", [204, 401, 403, 404, 406, 409, 500]),
        ("GET", "reports/", [200, 401, 403, 406, 429, 500]),
        ("POST", "reports/", [201, 400, 401, 403, 406, 409, 415, 422, 429, 500]),
        ("POST", "reports/{id}/publish/", [202, 401, 403, 404, 406, 429, 500, 502]),
        ("POST", "reports/generate/", [202, 401, 402, 403, 406, 429, 500]),
        ("GET", "health/", [200, 406, 500, 503]),
        ("GET", "things/", [200, 406, 500]),
        ("POST", "things/", [201, 400, 406, 409, 415, 422, 500]),
    ],
)
def test_statuses_inferred_from_the_view(
    schema: Schema, method: str, url: str, expected: list[int]
) -> None:
    assert statuses(schema, method, url) == expected


def test_open_view_answers_no_401_or_403(schema: Schema) -> None:
    assert 401 not in statuses(schema, "GET", "ping/")
    assert 403 not in statuses(schema, "GET", "ping/")


def test_is_authenticated_with_authentication_answers_401_not_403(schema: Schema) -> None:
    # IsAuthenticated refuses only anonymous requests, and those are answered 401.
    assert 403 not in statuses(schema, "GET", "notes/")
    assert codes_for(schema, "GET", "notes/", 401) == ["UNAUTHORIZED"]


def test_jwt_authentication_adds_token_expired(schema: Schema) -> None:
    assert codes_for(schema, "GET", "reports/", 401) == ["UNAUTHORIZED", "TOKEN_EXPIRED"]


def test_scopes_and_permissions_per_method(schema: Schema) -> None:
    get_403 = response(schema, "GET", "notes/{id}/", 403)
    assert error_codes(get_403) == ["FORBIDDEN", "INVALID_SCOPE"]
    assert "notes:read" in get_403["description"]
    assert "WWW-Authenticate" in header_names(get_403)
    assert "notes:write" in response(schema, "PATCH", "notes/{id}/", 403)["description"]
    # DELETE maps no scope, so only the owner check (and CSRF) can refuse it.
    assert codes_for(schema, "DELETE", "notes/{id}/", 403) == ["FORBIDDEN"]
    assert component_ref(schema, "DELETE", "notes/{id}/", 403) == "Forbidden"


@pytest.mark.parametrize(
    ("method", "url", "scope"),
    [
        ("GET", "reports/", "reports:read"),
        ("POST", "reports/", "reports:write"),
        ("POST", "reports/generate/", "reports:write"),
        ("POST", "reports/{id}/publish/", "share"),
    ],
)
def test_viewset_scopes_per_method_and_action(
    schema: Schema, method: str, url: str, scope: str
) -> None:
    found = response(schema, method, url, 403)
    assert error_codes(found) == ["INVALID_SCOPE"]
    assert found["description"].endswith(f"scope: {scope}.")


def test_body_operations_answer_400_415_422(schema: Schema) -> None:
    assert codes_for(schema, "POST", "validated/", 400) == ["VALIDATION_ERROR"]
    assert component_ref(schema, "POST", "validated/", 400) == "BadRequest"
    assert codes_for(schema, "POST", "validated/", 415) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert codes_for(schema, "POST", "validated/", 422) == VALIDATION_CODES
    assert component_ref(schema, "POST", "validated/", 422) == "ValidationFailed"


def test_serializer_rejecting_unknown_fields_adds_invalid_field(schema: Schema) -> None:
    assert codes_for(schema, "PATCH", "notes/{id}/", 422) == [
        "VALIDATION_ERROR",
        "INVALID_FIELD",
        "MISSING_FIELD",
        "INVALID_FORMAT",
    ]
    assert component_ref(schema, "PATCH", "notes/{id}/", 422) is None


def test_serializers_that_refuse_unknown_fields_close_their_schema(schema: Schema) -> None:
    components = schema["components"]["schemas"]
    strict = [name for name in components if "StrictNote" in name]
    assert strict
    for name in strict:
        assert components[name]["additionalProperties"] is False, name
    assert "additionalProperties" not in components["Note"]


def test_request_text_documents_what_charfield_refuses(schema: Schema) -> None:
    # DRF's CharField refuses NUL characters, and blank text after trimming unless
    # allow_blank: a schema-valid body must not hold either.
    request = schema["components"]["schemas"]["NoteRequest"]["properties"]
    title, body = request["title"]["pattern"], request["body"]["pattern"]
    assert re.search(title, "a title")
    assert re.search(body, "")
    for text in ("N\x00UL", "\x00"):
        assert not re.search(title, text)
        assert not re.search(body, text)
    for blank in ("", "  ", "\t\n"):
        assert not re.search(title, blank)
    assert request["title"]["minLength"] == 1
    assert "minLength" not in request["body"]
    # Responses and read-only fields are left alone.
    note = schema["components"]["schemas"]["Note"]["properties"]
    assert "pattern" not in note["title"]
    assert "pattern" not in note["id"]


def test_request_text_has_an_example_its_pattern_accepts(schema: Schema) -> None:
    # Swagger UI prefills a request from the examples, and makes random text up from a
    # pattern where a string has none: each patterned property gets a plain example.
    request = schema["components"]["schemas"]["NoteRequest"]["properties"]
    assert request["title"]["example"] == request["body"]["example"] == "string"
    checked = 0
    for name, component in schema["components"]["schemas"].items():
        for prop_name, prop in component.get("properties", {}).items():
            if "pattern" not in prop:
                continue
            example = prop["example"]
            assert re.search(prop["pattern"], example), (name, prop_name)
            assert prop.get("minLength", 0) <= len(example) <= prop.get("maxLength", 10**6)
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({}, "string"),
        ({"maxLength": 3}, "str"),
        ({"minLength": 8, "maxLength": 8}, "stringst"),
        ({"minLength": 13}, "stringstrings"),
    ],
)
def test_text_example_fits_the_lengths(limits: Schema, expected: str) -> None:
    assert text_example(limits) == expected


def test_an_example_of_the_field_is_kept(generate: Callable[[], Schema]) -> None:
    component = generate()["components"]["schemas"]["ReportRequest"]["properties"]["name"]
    assert component["example"] == "Monthly sales"
    assert re.search(component["pattern"], component["example"])


def test_reject_unknown_fields_setting_adds_invalid_field_everywhere(
    settings: Any, generate: Callable[[], Schema]
) -> None:
    settings.APIERRORS = {"REJECT_UNKNOWN_FIELDS": True}
    schema = generate()
    assert "INVALID_FIELD" in codes_for(schema, "POST", "validated/", 422)
    assert component_ref(schema, "POST", "validated/", 422) == "ValidationFailed"
    assert schema["components"]["schemas"]["Note"]["additionalProperties"] is False


def test_unique_validator_of_the_request_serializer_answers_409(schema: Schema) -> None:
    # ThingSerializer's name is unique on the model: DRF gives it a UniqueValidator, whose
    # refusal (code "unique") the handler answers 409 DUPLICATE_RESOURCE.
    found = response(schema, "POST", "things/", 409)
    assert error_codes(found) == ["DUPLICATE_RESOURCE"]
    assert found["content"]["application/json"]["examples"]["DUPLICATE_RESOURCE"]
    # A read answers no 409, and a write without a uniqueness rule neither.
    assert 409 not in statuses(schema, "GET", "things/")
    assert 409 not in statuses(schema, "POST", "notes/")


@pytest.mark.django_db
def test_documented_409_is_what_a_taken_name_answers(
    generate: Callable[[], Schema], api_client: Any
) -> None:
    documented = codes_for(generate(), "POST", "things/", 409)
    assert api_client.post("/t/openapi/things/", {"name": "one"}, format="json").status_code == 201
    answer = api_client.post("/t/openapi/things/", {"name": "one"}, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] in documented


class _Named(Serializer[Any]):
    name = CharField()


@pytest.mark.parametrize(
    ("serializer", "expected"),
    [
        (_Named, False),
        (type("Unique", (_Named,), {"name": CharField(validators=[_unique()])}), True),
        (
            type(
                "ReadOnly", (_Named,), {"name": CharField(read_only=True, validators=[_unique()])}
            ),
            False,
        ),
        (
            type(
                "Together",
                (_Named,),
                {"Meta": type("Meta", (), {"validators": [_together()]})},
            ),
            True,
        ),
        (
            type(
                "OwnCode",
                (_Named,),
                {"Meta": type("Meta", (), {"validators": [_together(code="taken_slot")]})},
            ),
            False,
        ),
        (type("Nested", (_Named,), {"thing": ThingSerializer()}), True),
        (type("NestedList", (_Named,), {"things": ThingSerializer(many=True)}), True),
        (ThingSerializer, True),
        (_model_serializer(Thing, extra_kwargs={"name": {"validators": []}}), True),
        (_model_serializer(Holder), False),
    ],
    ids=[
        "plain",
        "unique-validator",
        "read-only",
        "unique-together",
        "unique-together-own-code",
        "nested",
        "nested-list",
        "model-unique-field",
        "model-rule-without-validator",
        "model-without-rule",
    ],
)
def test_checks_uniqueness(serializer: Any, expected: bool) -> None:
    assert checks_uniqueness(serializer) is expected


def test_paginated_list_answers_404(schema: Schema) -> None:
    assert codes_for(schema, "GET", "notes/", 404) == ["RESOURCE_NOT_FOUND"]
    assert 404 not in statuses(schema, "GET", "reports/")


# Declared errors ---------------------------------------------------------------------------


def test_method_and_class_declarations_stack(schema: Schema) -> None:
    assert codes_for(schema, "DELETE", "notes/{id}/", 409) == [
        "DUPLICATE_RESOURCE",
        "RESOURCE_CONFLICT",
        "CAMPAIGN_ALREADY_ACTIVE",
    ]
    assert codes_for(schema, "GET", "notes/{id}/", 409) == ["RESOURCE_CONFLICT"]


def test_declared_on_inherited_viewset_action_with_extend_schema_view(schema: Schema) -> None:
    assert codes_for(schema, "POST", "reports/", 409) == ["DUPLICATE_RESOURCE"]
    assert operation(schema, "POST", "reports/")["summary"] == "Create a report"
    # Declared on create only.
    assert 409 not in statuses(schema, "GET", "reports/")


def test_declared_on_action_stacks_with_extend_schema_in_both_orders(schema: Schema) -> None:
    publish = response(schema, "POST", "reports/{id}/publish/", 502)
    assert error_codes(publish) == ["PUBLISHING_FAILED"]
    assert "202" in operation(schema, "POST", "reports/{id}/publish/")["responses"]
    generate = response(schema, "POST", "reports/generate/", 402)
    assert error_codes(generate) == ["QUOTA_EXHAUSTED"]
    assert "quota" in generate["description"]
    assert "202" in operation(schema, "POST", "reports/generate/")["responses"]


def test_declared_rate_limit_on_throttled_view_shares_the_component(schema: Schema) -> None:
    assert component_ref(schema, "POST", "reports/{id}/publish/", 429) == "RateLimited"


def test_api_view_function_declarations(schema: Schema) -> None:
    assert codes_for(schema, "GET", "health/", 503) == ["SERVICE_UNAVAILABLE"]


def test_one_example_per_code_with_catalogue_message(schema: Schema) -> None:
    found = response(schema, "DELETE", "notes/{id}/", 409)
    examples = found["content"]["application/json"]["examples"]
    assert list(examples) == error_codes(found)
    for code, example in examples.items():
        error = example["value"]["error"]
        assert error["code"] == code
        assert error["message"] == str(codes.CATALOGUE[code].message)
        assert error["requestId"] == EXAMPLE_REQUEST_ID


def test_rate_limit_example_matches_the_contract(schema: Schema) -> None:
    found = response(schema, "GET", "notes/", 429)
    error = found["content"]["application/json"]["examples"]["RATE_LIMIT_EXCEEDED"]["value"]
    assert error == {
        "error": {
            "code": "RATE_LIMIT_EXCEEDED",
            "message": "Too many requests. Please retry after 60 seconds.",
            "requestId": EXAMPLE_REQUEST_ID,
            "retryAfter": 60,
        }
    }


def test_raises_refuses_what_is_not_an_error() -> None:
    with pytest.raises(TypeError, match="raises"):
        raises(ValueError)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        raises("RESOURCE_NOT_FOUND")  # type: ignore[arg-type]


def test_raises_on_a_subclass_keeps_the_parents_declarations() -> None:
    @raises(errors.ResourceConflict)
    class Parent(APIView):
        pass

    @raises(errors.ConnectionExpired)
    class Child(Parent):
        @raises(errors.ContentRejected)
        def post(self, request: Any) -> Response:
            return Response()

    assert declared_errors(Parent(), "POST") == [errors.ResourceConflict]
    assert declared_errors(Child(), "POST") == [
        errors.ConnectionExpired,
        errors.ResourceConflict,
        errors.ContentRejected,
    ]


# A view module that declares its errors, run where drf-spectacular cannot be imported.
DECLARE_WITHOUT_DRF_SPECTACULAR = """
import sys

sys.modules["drf_spectacular"] = None  # every import of it now raises ImportError

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "apierrors"]
)
django.setup()

from rest_framework.views import APIView

from apierrors import codes
from apierrors import exceptions as errors
from apierrors.declarations import declared_errors, raises


@raises(errors.ResourceConflict)
class View(APIView):
    @raises(codes.SEGMENT_REQUIRED)
    def post(self, request): ...


print(" ".join(cls.default_code for cls in declared_errors(View(), "POST")))
print(" ".join(sorted(name for name in sys.modules if name.startswith("drf_spectacular"))))
"""


def test_declarations_import_without_drf_spectacular() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", DECLARE_WITHOUT_DRF_SPECTACULAR],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    declared, spectacular_modules = result.stdout.splitlines()
    assert declared == "RESOURCE_CONFLICT SEGMENT_REQUIRED"
    # Only the blocker itself: nothing below it was ever loaded.
    assert spectacular_modules == "drf_spectacular"


def test_raises_is_the_same_under_both_import_paths() -> None:
    assert raises is apierrors.declarations.raises
    assert declared_errors is apierrors.declarations.declared_errors


def test_schema_request_id_pattern_is_the_one_the_middleware_applies(schema: Schema) -> None:
    patterns = {
        schema["components"]["schemas"]["ApiError"]["properties"]["requestId"]["pattern"],
        schema["components"]["headers"]["X-Request-ID"]["schema"]["pattern"],
    }
    assert len(patterns) == 1
    documented = patterns.pop()
    assert documented.startswith("^")
    assert documented.endswith("$")
    # ECMA-262's $ (the schema's dialect) matches only at the end; Python's \Z does that.
    pattern = re.compile(documented[:-1] + r"\Z")
    samples = ["", "a", "req_0f", "A.b_c:d-e", "x" * 128, "x" * 129, "a b", "a/b", "é", "a\n"]
    for sample in samples:
        assert (pattern.search(sample) is not None) == request_id.is_valid(sample), sample


class CountingDocument(ErrorDocument):
    schemas_built = 0

    def schemas(self) -> dict[str, dict[str, Any]]:
        CountingDocument.schemas_built += 1
        return super().schemas()


class CountingSchema(AutoSchema):
    documents = 0

    def error_document(self) -> ErrorDocument:
        CountingSchema.documents += 1
        return CountingDocument(oas31=False, problem_details=False)


def test_error_document_built_once_per_operation(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_SCHEMA_CLASS": "tests.test_openapi.CountingSchema",
    }
    CountingSchema.documents = CountingDocument.schemas_built = 0
    # Not health/: an @api_view with apierrors' own AutoSchema fixed on it.
    patterns = [found for found in urls.urlpatterns if str(found.pattern) != "health/"]
    generator = SchemaGenerator(patterns=[path("t/openapi/", include(patterns))])
    schema = generator.get_schema(request=None, public=True)
    operations = sum(len(methods) for methods in schema["paths"].values())
    # The app has throttled operations and declared ones, which once built a document each.
    assert 429 in statuses(schema, "GET", "notes/")
    assert operations > 10
    assert CountingSchema.documents == operations
    # The shared components are built by the first operation only.
    assert CountingDocument.schemas_built == 1
    assert set(schema["components"]["responses"]) == STANDARD_RESPONSES - {
        "MethodNotAllowed",
        "ServiceUnavailable",
    }


def test_error_documented_by_hand_is_kept(generate: Callable[[], Schema], settings: Any) -> None:
    view = views.MissingView

    original = view.get
    try:
        view.get = extend_schema(responses={200: None, 404: None})(  # type: ignore[method-assign]
            raises(errors.ResourceNotFound)(lambda self, request: Response())
        )
        schema = generate()
    finally:
        view.get = original  # type: ignore[method-assign]
    assert operation(schema, "GET", "missing/")["responses"]["404"] == {
        "description": "No response body",
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
    }


# Headers -----------------------------------------------------------------------------------


def test_request_id_header_on_every_response(schema: Schema) -> None:
    for where, found in iter_responses(schema):
        assert "X-Request-ID" in header_names(found), where


def test_rate_limit_headers_on_throttled_successes_and_429(schema: Schema) -> None:
    for method, url, success in [("GET", "notes/", 200), ("POST", "notes/", 201)]:
        assert header_names(response(schema, method, url, success)) >= RATE_LIMIT_HEADERS
        limited = response(schema, method, url, 429)
        assert RATE_LIMIT_HEADERS | {"Retry-After"} <= header_names(limited)
        assert error_codes(limited) == ["RATE_LIMIT_EXCEEDED"]
    assert not RATE_LIMIT_HEADERS & header_names(response(schema, "GET", "ping/", 200))
    assert not RATE_LIMIT_HEADERS & header_names(response(schema, "GET", "notes/", 404))
    headers = schema["components"]["headers"]
    assert headers["Retry-After"]["required"] is True
    assert headers["X-Request-ID"]["required"] is True


def test_429_requires_retry_after_in_the_body(schema: Schema) -> None:
    found = response(schema, "GET", "notes/", 429)
    narrowing = found["content"]["application/json"]["schema"]["allOf"][1]
    assert narrowing["properties"]["error"]["required"] == ["retryAfter"]


def test_throttle_whose_rate_is_missing_still_counts_as_throttled(schema: Schema) -> None:
    # ReportViewSet's DRF throttle raises ImproperlyConfigured when instantiated.
    assert 429 in statuses(schema, "GET", "reports/")


def test_rate_limit_headers_switched_off(settings: Any, generate: Callable[[], Schema]) -> None:
    settings.APIERRORS = {"RATELIMIT_HEADERS": False}
    schema = generate()
    assert not RATE_LIMIT_HEADERS & header_names(response(schema, "GET", "notes/", 200))
    assert not RATE_LIMIT_HEADERS & header_names(response(schema, "GET", "notes/", 429))


def test_ietf_rate_limit_headers(settings: Any, generate: Callable[[], Schema]) -> None:
    settings.APIERRORS = {"IETF_RATELIMIT_HEADERS": True}
    schema = generate()
    assert {"RateLimit", "RateLimit-Policy"} <= header_names(response(schema, "GET", "notes/", 200))


def test_fail_closed_throttles_answer_503(settings: Any, generate: Callable[[], Schema]) -> None:
    settings.APIERRORS = {"FAIL_OPEN": False}
    schema = generate()
    unavailable = response(schema, "GET", "notes/", 503)
    assert error_codes(unavailable) == ["SERVICE_UNAVAILABLE"]
    assert "Retry-After" in header_names(unavailable)
    example = unavailable["content"]["application/json"]["examples"]["SERVICE_UNAVAILABLE"]
    assert example["value"]["error"]["retryAfter"] == 5
    assert 503 not in statuses(schema, "GET", "ping/")


def test_custom_request_id_header(settings: Any, generate: Callable[[], Schema]) -> None:
    settings.APIERRORS = {"REQUEST_ID_HEADER": "X-Correlation-ID"}
    schema = generate()
    assert "X-Correlation-ID" in header_names(response(schema, "GET", "ping/", 200))
    assert "X-Correlation-ID" in header_names(response(schema, "GET", "ping/", 500))


# Problem details ---------------------------------------------------------------------------


def test_problem_details_documented_when_enabled(
    settings: Any, generate: Callable[[], Schema]
) -> None:
    settings.APIERRORS = {"PROBLEM_DETAILS": True, "DOCS_URL": "https://docs.example.com/c/"}
    schema = generate()
    problem = schema["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code", "requestId"}
    found = response(schema, "DELETE", "notes/{id}/", 409)
    assert error_codes(found, "application/problem+json") == error_codes(found)
    media = found["content"]["application/problem+json"]
    assert media["schema"]["allOf"][1]["properties"]["status"]["enum"] == [409]
    example = media["examples"]["CAMPAIGN_ALREADY_ACTIVE"]["value"]
    assert example["type"] == "https://docs.example.com/c/#campaign-already-active"
    assert example["status"] == 409
    assert example["code"] == "CAMPAIGN_ALREADY_ACTIVE"


def test_problem_details_absent_by_default(schema: Schema) -> None:
    assert "ProblemDetails" not in schema["components"]["schemas"]
    for where, found in iter_responses(schema):
        assert "application/problem+json" not in found.get("content", {}), where


# Validity ----------------------------------------------------------------------------------


def _validator(schema: Schema, fragment: Schema) -> OAS30Validator:
    registry: Registry[Any] = Registry().with_resource(
        "urn:schema", Resource.from_contents(schema, default_specification=DRAFT4)
    )
    wrapped = {**fragment}
    return OAS30Validator(_rebase(wrapped), registry=registry)


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (f"urn:schema{value}" if key == "$ref" else _rebase(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node


@pytest.mark.parametrize("problem_details", [False, True])
def test_every_example_validates_against_its_schema(
    settings: Any, generate: Callable[[], Schema], problem_details: bool
) -> None:
    settings.APIERRORS = {"PROBLEM_DETAILS": problem_details, "DOCS_URL": "https://x.test/c/"}
    schema = generate()
    checked = 0
    for where, found in iter_responses(schema):
        for media_type, media in found.get("content", {}).items():
            for name, example in media.get("examples", {}).items():
                errors_found = list(
                    _validator(schema, media["schema"]).iter_errors(example["value"])
                )
                assert not errors_found, f"{where} {media_type} {name}: {errors_found[0]}"
                checked += 1
    assert checked > 100


def test_example_request_ids_look_like_generated_ones(schema: Schema) -> None:
    assert re.fullmatch(r"req_[0-9a-f]{24}", EXAMPLE_REQUEST_ID)


@pytest.mark.parametrize("problem_details", [False, True])
def test_schema_passes_an_openapi_validator(
    settings: Any, generate: Callable[[], Schema], problem_details: bool
) -> None:
    settings.APIERRORS = {"PROBLEM_DETAILS": problem_details}
    validate(generate())


def test_spectacular_validates_without_warnings(schema_class: None, tmp_path: Any) -> None:
    # The management command's --fail-on-warn turns every drf-spectacular warning and
    # error into a failure, --validate runs its own validation of the result.
    output = tmp_path / "schema.yaml"
    call_command(
        SpectacularCommand(),
        "--urlconf",
        "tests.openapi_app.urls",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(output),
    )
    assert "ErrorEnvelope" in output.read_text()


def test_oas_31_nullable_field() -> None:
    document = ErrorDocument(oas31=True, problem_details=False)
    field = document.schemas()["FieldProblem"]["properties"]["field"]
    assert field["type"] == ["string", "null"]
    assert "nullable" not in field


def test_response_merges_headers_and_orders_codes() -> None:
    document = ErrorDocument(oas31=False, problem_details=False)
    built = document.response(
        [
            Outcome(errors.InvalidScope(), ("WWW-Authenticate",)),
            Outcome(errors.Forbidden()),
            Outcome(errors.Forbidden(), note="ignored: the first outcome of a code wins"),
        ]
    )
    assert error_codes(built) == ["FORBIDDEN", "INVALID_SCOPE"]
    assert list(built["headers"]) == ["X-Request-ID", "WWW-Authenticate"]
    assert "ignored" not in built["description"]


@pytest.mark.django_db
def test_responses_conform_to_the_schema(
    generate: Callable[[], Schema], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Schemathesis calls every operation in process with generated valid requests and
    # checks each answer's status, content type, headers and body against the schema, and
    # that the request was not refused. Text fields document that they refuse NUL (and,
    # where DRF trims them, blank text), and the run is derandomized. Invalid requests are
    # left to the sandbox's run: these views use DRF's fields, which take numbers as text.
    # These views have no real token to use: Schemathesis makes credentials up. The reports'
    # throttle has no rate (for the inference tests); here it gets one, so that requests
    # are answered rather than stopped by the configuration error. DRF's throttles copy
    # their rates when imported, so the class gets it.
    rates = {views.UnconfiguredThrottle.scope: "1000000/hour"}
    monkeypatch.setattr(views.UnconfiguredThrottle, "THROTTLE_RATES", rates)
    operations = support.operations(support.load(generate(), generate_credentials=True))
    assert len(operations) == 15
    for api_operation in operations.values():
        support.run(api_operation, headers={}, max_examples=50, modes=[GenerationMode.POSITIVE])


def test_not_blank_pattern_refuses_exactly_what_drf_strips_to_blank():
    # Every character: a one-character text matches the pattern unless DRF's CharField
    # would strip it to blank (str.isspace) or refuse it (NUL).
    pattern = re.compile(NOT_BLANK_PATTERN)
    mismatched = [
        hex(code)
        for code in range(0x110000)
        if (pattern.fullmatch(chr(code)) is None) != (chr(code).isspace() or code == 0)
    ]
    assert mismatched == []


def test_session_first_authentication_documents_403_as_drf_answers() -> None:
    from rest_framework.authentication import BasicAuthentication, SessionAuthentication

    from apierrors.contrib.simplejwt import JWTAuthentication
    from apierrors.openapi.outcomes import authentication_outcomes

    # DRF's default order: the first class sends no challenge, so refusals are 403.
    session_first = authentication_outcomes([SessionAuthentication, BasicAuthentication])
    assert [(o.status, o.code) for o in session_first] == [(403, "FORBIDDEN")]
    assert "403" in session_first[0].description()
    basic_first = authentication_outcomes([BasicAuthentication, SessionAuthentication])
    assert [(o.status, o.code) for o in basic_first] == [(401, "UNAUTHORIZED")]
    jwt = authentication_outcomes([JWTAuthentication])
    assert [(o.status, o.code) for o in jwt] == [(401, "UNAUTHORIZED"), (401, "TOKEN_EXPIRED")]

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import get_error_detail

from apierrors import envelope
from apierrors.exceptions import FieldProblem


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("send_at", "sendAt"),
        ("segment_id", "segmentId"),
        ("sendAt", "sendAt"),
        ("name", "name"),
        ("_private_thing", "_privateThing"),
        ("a_b_c", "aBC"),
        ("trailing_", "trailing"),
    ],
)
def test_camelize(name, expected):
    assert envelope.camelize(name) == expected


def test_format_path_uses_brackets_for_indexes_including_zero():
    assert envelope.format_path(["items", 0, "name"], camel=False) == "items[0].name"
    assert envelope.format_path([0, "title"], camel=False) == "[0].title"
    assert envelope.format_path(["schedule", "send_at"], camel=True) == "schedule.sendAt"
    assert envelope.format_path(["tags", 2], camel=False) == "tags[2]"
    assert envelope.format_path([], camel=False) is None
    # A body key that is the empty string is still a field, not "no field".
    assert envelope.format_path([""], camel=False) == ""
    assert envelope.format_path(["meta", ""], camel=False) == "meta."


@pytest.mark.parametrize(
    ("drf_code", "code"),
    [
        ("required", "MISSING_FIELD"),
        ("invalid", "INVALID_FORMAT"),
        ("invalid_choice", "INVALID_FORMAT"),
        ("max_length", "INVALID_FORMAT"),
        ("date", "INVALID_FORMAT"),
        ("null", "INVALID_FORMAT"),
        ("unique", "DUPLICATE_RESOURCE"),
        ("INVALID_OPERATOR", "INVALID_OPERATOR"),
        ("INVALID_FIELD", "INVALID_FIELD"),
        ("some_rule_of_mine", "VALIDATION_ERROR"),
        (None, "VALIDATION_ERROR"),
    ],
)
def test_field_code_maps_drf_codes_onto_the_catalogue(drf_code, code):
    assert envelope.field_code(drf_code) == code


def test_field_codes_setting_extends_the_mapping(settings):
    settings.APIERRORS = {"FIELD_CODES": {"too_cheap": "INVALID_FORMAT"}}
    assert envelope.field_code("too_cheap") == "INVALID_FORMAT"


def leaf(message: str, code: str) -> ErrorDetail:
    return ErrorDetail(message, code=code)


def test_flatten_nested_dicts_lists_and_integer_keyed_list_errors():
    detail = {
        "title": [leaf("This field is required.", "required")],
        "schedule": {"send_at": [leaf("Bad date.", "invalid")]},
        # DRF 3.18 reports ListSerializer/ListField errors keyed by integer index.
        "items": {0: {"name": [leaf("Too long.", "max_length")]}, 2: [leaf("Bad.", "invalid")]},
        # Older DRF: a list with an empty dict for each valid item.
        "lines": [{}, {"qty": [leaf("Too small.", "min_value")]}],
    }
    problems = envelope.flatten(detail, camel=True)
    assert problems == [
        FieldProblem("title", "MISSING_FIELD", "This field is required."),
        FieldProblem("schedule.sendAt", "INVALID_FORMAT", "Bad date."),
        FieldProblem("items[0].name", "INVALID_FORMAT", "Too long."),
        FieldProblem("items[2]", "INVALID_FORMAT", "Bad."),
        FieldProblem("lines[1].qty", "INVALID_FORMAT", "Too small."),
    ]


def test_flatten_non_field_errors_at_the_top_and_nested():
    detail = {
        "non_field_errors": [leaf("Dates overlap.", "invalid")],
        "schedule": {"non_field_errors": [leaf("End before start.", "order")]},
    }
    assert envelope.flatten(detail, camel=False) == [
        FieldProblem(None, "INVALID_FORMAT", "Dates overlap."),
        FieldProblem("schedule", "VALIDATION_ERROR", "End before start."),
    ]


def test_flatten_a_bare_list_and_a_bare_string():
    assert envelope.flatten([leaf("Nope.", "invalid")], camel=False) == [
        FieldProblem(None, "INVALID_FORMAT", "Nope.")
    ]
    assert envelope.flatten("Plain.", camel=False) == [
        FieldProblem(None, "VALIDATION_ERROR", "Plain.")
    ]


def test_flatten_django_validation_errors_with_all_key():
    detail = get_error_detail(
        DjangoValidationError({"__all__": ["Clash."], "name": ["Taken."]}, code="unique")
    )
    problems = envelope.flatten(detail, camel=False)
    assert {(p.field, p.message) for p in problems} == {(None, "Clash."), ("name", "Taken.")}


def test_flatten_a_real_many_true_serializer_error():
    class Item(serializers.Serializer):  # type: ignore[type-arg]
        name = serializers.CharField()

    serializer = Item(data=[{"name": "a"}, {}], many=True)
    assert not serializer.is_valid()
    assert envelope.flatten(serializer.errors, camel=False) == [
        FieldProblem("[1].name", "MISSING_FIELD", "This field is required.")
    ]


def test_camel_setting_and_auto_detection(settings):
    detail = {"send_at": [leaf("Bad.", "invalid")]}
    settings.APIERRORS = {"CAMELIZE_FIELDS": True}
    assert envelope.flatten(detail)[0].field == "sendAt"
    settings.APIERRORS = {"CAMELIZE_FIELDS": False}
    assert envelope.flatten(detail)[0].field == "send_at"
    settings.APIERRORS = {}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_RENDERER_CLASSES": ["djangorestframework_camel_case.render.CamelCaseJSONRenderer"],
    }
    assert envelope.flatten(detail)[0].field == "sendAt"


def test_summarize_shared_code_single_message_and_mixed():
    one = [FieldProblem("a", "MISSING_FIELD", "This field is required.")]
    assert envelope.summarize(one) == ("MISSING_FIELD", 422, "This field is required.")
    two_same = one + [FieldProblem("b", "MISSING_FIELD", "This field is required.")]
    assert envelope.summarize(two_same) == ("MISSING_FIELD", 422, "A required field is missing.")
    mixed = one + [FieldProblem("b", "INVALID_FORMAT", "Bad.")]
    assert envelope.summarize(mixed) == ("VALIDATION_ERROR", 422, "The request body is not valid.")
    duplicate = [FieldProblem("name", "DUPLICATE_RESOURCE", "Taken.")]
    assert envelope.summarize(duplicate) == ("DUPLICATE_RESOURCE", 409, "Taken.")


def test_build_includes_optional_members_only_when_set(settings):
    assert envelope.build(code="FORBIDDEN", message="No.", request_id="req_1") == {
        "error": {"code": "FORBIDDEN", "message": "No.", "requestId": "req_1"}
    }
    settings.APIERRORS = {"DOCS_URL": "https://docs.example.com/catalogue.html"}
    body = envelope.build(
        code="RATE_LIMIT_EXCEEDED",
        message="Slow.",
        request_id="req_2",
        details=[FieldProblem(None, "RATE_LIMIT_EXCEEDED", "Slow.")],
        retry_after=7,
    )
    assert body == {
        "error": {
            "code": "RATE_LIMIT_EXCEEDED",
            "message": "Slow.",
            "requestId": "req_2",
            "details": [{"field": None, "code": "RATE_LIMIT_EXCEEDED", "message": "Slow."}],
            "retryAfter": 7,
            "docUrl": "https://docs.example.com/catalogue.html#rate-limit-exceeded",
        }
    }


def test_lone_surrogates_are_escaped_so_the_body_encodes():
    body = envelope.build(
        code="INVALID_FIELD",
        message='"\udc80" is not a valid choice.',
        request_id="req_1",
        details=[FieldProblem("meta.\ud800key", "INVALID_FIELD", "x\udfff")],
    )
    error = body["error"]
    assert error["message"] == '"\\udc80" is not a valid choice.'
    assert error["details"][0]["field"] == "meta.\\ud800key"
    assert error["details"][0]["message"] == "x\\udfff"
    assert envelope.encodable("café ok") == "café ok"


def test_unknown_key_with_a_lone_surrogate_answers_422(api_client, db):
    response = api_client.post(
        "/t/orders/strict/", '{"title": "x", "\\udc80": 1}', content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "\\udc80"


def test_details_are_bounded_with_a_count_of_the_rest():
    problems = [FieldProblem(f"f{i}", "MISSING_FIELD", "Required.") for i in range(250)]
    kept = envelope.bounded(problems, "MISSING_FIELD")
    assert len(kept) == envelope.MAX_DETAILS
    assert kept[:99] == problems[:99]
    assert kept[-1] == FieldProblem(None, "MISSING_FIELD", "151 more problems are not listed.")
    assert envelope.bounded(problems[:100], "MISSING_FIELD") == problems[:100]


# flatten builds each path a part at a time; format_path builds it from the whole list of
# parts. Both must give the same string for any tree.
_keys = st.one_of(
    st.sampled_from(
        ["", ".", "[", "]", "\\", "a.b", "_x", "send_at", "__a__b_", "non_field_errors"]
    ),
    st.text(max_size=4),
    st.integers(min_value=0, max_value=3),
)
_trees = st.recursive(
    st.builds(ErrorDetail, st.text(max_size=3), st.sampled_from(["invalid", "required", None])),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(_keys, children, max_size=3),
    ),
    max_leaves=8,
)


def _reference_paths(node: Any, path: list[Any], camel: bool, out: list[str | None]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("non_field_errors", "__all__"):
                _reference_paths(value, path, camel, out)
            else:
                part = key if isinstance(key, int) else str(key)
                _reference_paths(value, [*path, part], camel, out)
    elif isinstance(node, list | tuple):
        for index, item in enumerate(node):
            nested = isinstance(item, Mapping | list | tuple)
            _reference_paths(item, [*path, index] if nested else path, camel, out)
    else:
        out.append(envelope.format_path(path, camel=camel))


@given(tree=_trees, camel=st.booleans())
@hypothesis_settings(max_examples=300, deadline=None)
def test_flatten_paths_are_format_path_of_the_parts(tree: Any, camel: bool) -> None:
    expected: list[str | None] = []
    _reference_paths(tree, [], camel, expected)
    assert [problem.field for problem in envelope.flatten(tree, camel=camel)] == expected

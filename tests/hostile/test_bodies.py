"""Hostile bodies on every write route: malformed, truncated, mistyped, oversized, deep,
huge, badly encoded. Each is answered with a 4xx envelope that quotes nothing back and
writes nothing; the sandbox's own tests cover single cases, these cover every route."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apierrors.envelope import escape_key
from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from sandbox.social.models import Connection
from tests.hostile.support import assert_answered, assert_refused, unchanged

pytestmark = pytest.mark.django_db

RULES = {"field": "age", "operator": "gte", "value": 18}

# A route, and a body it accepts: truncating or corrupting it gives the hostile variants.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/v1/auth/token/", {"username": "demo", "password": "demo-password"}),
    ("POST", "/api/v1/auth/token/refresh/", {"refresh": "x.y.z"}),
    ("POST", "/api/v1/segments/", {"name": "Adults", "rules": RULES}),
    ("PATCH", "/api/v1/segments/{segment}/", {"description": "Grown-ups"}),
    ("POST", "/api/v1/segments/validate/", {"rules": RULES}),
    ("POST", "/api/v1/campaigns/", {"name": "Autumn", "subject": "Hi", "body": "Hello"}),
    ("PATCH", "/api/v1/campaigns/{draft}/", {"subject": "New subject"}),
    ("POST", "/api/v1/campaigns/{draft}/schedule/", {"sendAt": "2030-01-01T00:00:00Z"}),
    ("POST", "/api/v1/campaigns/{scheduled}/activate/", {}),
    (
        "POST",
        "/api/v1/social/connections/",
        {"platform": "chirp", "accessToken": "t", "expiresAt": "2030-01-01T00:00:00Z"},
    ),
    ("POST", "/api/v1/social/connections/{connection}/posts/", {"content": "Hello"}),
]
ROUTE_IDS = [f"{method} {template}" for method, template, _ in ROUTES]


@pytest.fixture
def url(demo: Any) -> Any:
    """``url(template)``: a route's URL with the seeded objects' ids."""

    def make(template: str) -> str:
        segment = Segment.objects.filter(owner=demo).first()
        assert segment is not None
        return template.format(
            segment=segment.pk,
            draft=Campaign.objects.get(name="Spring sale").pk,
            scheduled=Campaign.objects.get(name="Welcome series").pk,
            connection=Connection.objects.get(owner=demo, platform="chirp").pk,
        )

    return make


def post(client: Any, method: str, url: str, data: bytes | str, content_type: str) -> Any:
    return getattr(client, method.lower())(url, data, content_type=content_type)


def truncations(text: str) -> list[str]:
    """A handful of proper prefixes of ``text``: none of them is a JSON document."""
    cuts = sorted({1, 2, len(text) // 3, len(text) // 2, len(text) - 2, len(text) - 1})
    return [text[:cut] for cut in cuts if 0 < cut < len(text)]


MALFORMED = [
    '{"name": "x",}',
    "{'name': 'x'}",
    '{"name": "x"} {"name": "y"}',
    '{"name": "x"}\x00',
    '{"name": undefined}',
    '{"name": "tab\tinside"}',
    '{"name": "\\x41"}',
    '{"name": "\\ud800\\u"}',
    "\ufeff{}",
    "NaN",
    "-Infinity",
    '{"a": NaN}',
    '{"a": Infinity}',
    "[" * 10 + "]" * 9,
    '"' + "a" * 10_000,
    "\x00\x00\x00{",
    "nul",
    "tru",
]


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=ROUTE_IDS)
def test_truncated_and_malformed_json_is_400(as_demo, url, method, template, body):
    target = url(template)
    for raw in [*truncations(json.dumps(body)), *MALFORMED]:
        with unchanged():
            response = post(as_demo, method, target, raw, "application/json")
        error = assert_refused(response, 400, "VALIDATION_ERROR")
        # The parser's own message (its position) is kept; the body is never quoted.
        assert error["message"].startswith("JSON parse error - "), raw


CONTENT_TYPES = [
    "text/plain",
    "application/xml",
    "text/html; charset=utf-8",
    "multipart/form-data; boundary=xyz",
    "application/x-www-form-urlencoded",
    "application/vnd.api+json",
    "application/json-patch+json",
    "application/jsonx",
    "json",
    "image/png",
    'application/"json"',
    "a" * 2000,
]


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_wrong_content_type_is_415_and_not_quoted(
    as_demo, url, method, template, body, content_type
):
    with unchanged():
        response = post(as_demo, method, url(template), json.dumps(body), content_type)
    error = assert_refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert content_type not in error["message"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=bogus",
        "application/json; charset=",
        "application/json;;;",
        "*/*",
        "application/*",
    ],
)
def test_odd_json_parameters_are_read_as_utf8(as_demo, content_type):
    # Django ignores a charset it does not know and DRF lets a wildcard media type match its
    # JSON parser: the body is read as UTF-8 JSON and accepted.
    response = post(
        as_demo, "POST", "/api/v1/segments/validate/", json.dumps({"rules": RULES}), content_type
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("charset", "encoding"), [("utf-16", "utf-16"), ("latin-1", "latin-1"), ("utf-8", "utf-8")]
)
def test_declared_charsets_are_honoured(as_demo, charset, encoding):
    raw = json.dumps({"name": "Caf\u00e9", "rules": RULES}, ensure_ascii=False).encode(encoding)
    response = post(
        as_demo, "POST", "/api/v1/segments/", raw, f"application/json; charset={charset}"
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Caf\u00e9"


def test_body_in_a_charset_it_does_not_decode_in_is_400(as_demo):
    raw = json.dumps({"name": "x", "rules": RULES}).encode("utf-8")
    with unchanged():
        response = post(
            as_demo, "POST", "/api/v1/segments/", raw, "application/json; charset=utf-32"
        )
    assert_refused(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=ROUTE_IDS)
def test_body_over_the_upload_limit_is_413(as_demo, url, settings, method, template, body):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    padded = {**body, "padding": "x" * 8192}
    with unchanged():
        response = post(as_demo, method, url(template), json.dumps(padded), "application/json")
    error = assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["message"] == "The request body is too large."


def test_body_over_the_default_upload_limit_is_413(as_demo):
    # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), with a body that is valid JSON.
    raw = json.dumps({"name": "Big", "rules": RULES, "description": "d" * 3_000_000})
    with unchanged():
        response = post(as_demo, "POST", "/api/v1/segments/", raw, "application/json")
    assert_refused(response, 413, "PAYLOAD_TOO_LARGE")
    assert len(response.content) < 1024


def test_oversized_body_of_an_anonymous_request_is_refused_before_it_is_read(anonymous):
    raw = json.dumps({"name": "Big", "rules": RULES, "description": "d" * 3_000_000})
    response = post(anonymous, "POST", "/api/v1/segments/", raw, "application/json")
    assert_refused(response, 401, "UNAUTHORIZED")


def nested(depth: int, kind: str) -> str:
    """JSON nested ``depth`` levels: arrays, objects or segment ``not`` groups."""
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"not":' * depth + '{"field": "age", "operator": "gt", "value": 1}' + "}" * depth


DEPTHS = [6, 100, 500, 900, 990, 1000, 2000, 100_000]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize(
    ("template", "kind"),
    [
        ("{}", "array"),
        ("{}", "object"),
        ('{{"name": "Deep", "rules": {}}}', "rules"),
        ('{{"name": "Deep", "rules": {}}}', "array"),
        ('{{"name": {}, "rules": {{"field": "age", "operator": "gt", "value": 1}}}}', "object"),
        ('{{"name": "Deep", "extra": {}, "rules": {{"not": {{"field": "age"}}}}}}', "object"),
        (
            '{{"name": "Deep", "rules": {{"field": "tags", "operator": "in", "value": {}}}}}',
            "array",
        ),
    ],
)
def test_deep_nesting_anywhere_is_a_4xx(as_demo, template, kind, depth):
    raw = template.format(nested(depth, kind))
    with unchanged():
        response = post(as_demo, "POST", "/api/v1/segments/", raw, "application/json")
    error = assert_refused(response)
    if kind == "rules" and '"rules"' in template:
        assert error["code"] in {"INVALID_SEGMENT_RULE", "VALIDATION_ERROR"}
    # A deep body is answered in a few hundred bytes, whatever its size.
    assert len(response.content) < 4096


def test_deep_rules_on_the_validate_route_are_refused_at_the_depth_limit(as_demo):
    for depth in (5, 6, 50):
        raw = '{"rules": ' + nested(depth, "rules") + "}"
        with unchanged():
            response = post(as_demo, "POST", "/api/v1/segments/validate/", raw, "application/json")
        error = assert_refused(response, 422, "INVALID_SEGMENT_RULE")
        assert error["details"][0]["message"] == "Rules nest at most 5 levels deep."


HUGE = 200_000


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([1] * HUGE, id="top-level-array"),
        pytest.param({"name": "Huge", "rules": {"any": [RULES] * HUGE}}, id="rules-any"),
        pytest.param(
            {"name": "Huge", "rules": {"field": "tags", "operator": "containsAny", "value": ["t"]}}
            | {"rules": {"field": "tags", "operator": "containsAny", "value": ["t"] * HUGE}},
            id="list-value",
        ),
        pytest.param({"name": ["n"] * HUGE, "rules": RULES}, id="name-array"),
        pytest.param({"name": "Huge", "rules": RULES, "extra": [0] * HUGE}, id="unknown-array"),
        pytest.param({"name": "Huge", "rules": [RULES] * HUGE}, id="rules-array"),
    ],
)
def test_huge_arrays_are_refused_briefly(as_demo, body):
    with unchanged():
        response = post(as_demo, "POST", "/api/v1/segments/", json.dumps(body), "application/json")
    # 422, or 413 where the array takes the body past the upload limit.
    assert response.status_code in {413, 422}
    assert_refused(response)
    assert len(response.content) < 4096


def test_huge_array_in_a_campaign_id_field_is_refused_briefly(as_demo):
    body = {"name": "Huge", "segmentId": [1] * HUGE}
    with unchanged():
        response = post(as_demo, "POST", "/api/v1/campaigns/", json.dumps(body), "application/json")
    assert_refused(response, 422, "INVALID_FORMAT")
    assert len(response.content) < 4096


def test_many_unknown_keys_are_answered_briefly(as_demo):
    body = {f"k{index}": 1 for index in range(100_000)}
    with unchanged():
        response = post(as_demo, "POST", "/api/v1/campaigns/", json.dumps(body), "application/json")
    assert_refused(response, 422)
    assert len(response.content) < 64 * 1024


INVALID_UTF8 = [
    b'{"name": "\xff", "rules": {}}',
    b'{"name": "\xc0\xaf"}',
    b'{"name": "\xed\xa0\x80"}',
    b'{"name": "\xe2\x82"}',
    b'{"name": "ok"}\x80',
    b"\xfe\xff\x00{",
    b'{"\xff": 1}',
]


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=ROUTE_IDS)
def test_invalid_utf8_is_400(as_demo, url, method, template, body):
    target = url(template)
    for raw in INVALID_UTF8:
        with unchanged():
            response = post(as_demo, method, target, raw, "application/json")
        assert_refused(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=ROUTE_IDS)
def test_nul_and_lone_surrogates_in_any_string_field_are_refused(
    as_demo, url, method, template, body
):
    target = url(template)
    for name, value in body.items():
        if not isinstance(value, str):
            continue
        for bad in ("\x00", "a\x00b", "\ud800", "\udfff tail", "\x00" * 300):
            with unchanged():
                response = post(
                    as_demo, method, target, json.dumps({**body, name: bad}), "application/json"
                )
            assert_refused(response)


@pytest.mark.parametrize(("method", "template", "body"), ROUTES, ids=ROUTE_IDS)
def test_keys_with_nul_and_control_characters_are_invalid_field(
    as_demo, url, method, template, body
):
    target = url(template)
    for key in ("\x00", "\x1b[31m", "a\r\nb", "\ufeff", "__proto__", "constructor"):
        with unchanged():
            response = post(
                as_demo, method, target, json.dumps({**body, key: 1}), "application/json"
            )
        error = assert_refused(response)
        # Control characters appear only JSON-escaped, never raw in the body.
        assert not any(byte < 0x20 for byte in response.content)
        if response.status_code == 422:
            field = escape_key(key)  # "\x1b[31m" is the path "\x1b\\[31m"
            assert any(item["field"] == field for item in error.get("details", [])), error


def test_every_write_route_answers_an_empty_body_and_no_body(as_demo, url):
    for method, template, _ in ROUTES:
        for raw in ("", " ", "\n", "{}", "[]", "null", "0", '""'):
            response = post(as_demo, method, url(template), raw, "application/json")
            assert_answered(response)

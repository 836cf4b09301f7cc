"""Segments end to end: CRUD, the rule codes with their paths, ownership and conflicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from tests.sandbox.support import assert_envelope, send

pytestmark = pytest.mark.django_db

SEGMENTS = "/api/v1/segments/"

RULES = {"all": [{"field": "country", "operator": "eq", "value": "US"}]}


def segment_of(user: Any, name: str = "Mine", rules: Any = None) -> Segment:
    return Segment.objects.create(owner=user, name=name, rules=rules or RULES)


def test_create_and_read(as_demo, demo):
    body = {"name": "Canadians", "description": "In Canada.", "rules": RULES}
    response = send(as_demo, "POST", SEGMENTS, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {
        "id",
        "name",
        "description",
        "rules",
        "owner",
        "createdAt",
        "updatedAt",
    }
    assert created["name"] == "Canadians"
    assert created["owner"] == "demo"
    assert created["rules"] == RULES
    assert as_demo.get(f"{SEGMENTS}{created['id']}/").json() == created


def test_list_is_paginated(as_demo, demo):
    for index in range(25):
        segment_of(demo, f"Segment {index}")
    first = as_demo.get(SEGMENTS).json()
    assert first["count"] == 28
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert first["next"].endswith("/api/v1/segments/?page=2")
    second = as_demo.get(SEGMENTS, {"page": 2}).json()
    assert len(second["results"]) == 8
    assert second["next"] is None
    small = as_demo.get(SEGMENTS, {"pageSize": 5, "page": 3}).json()
    assert [item["name"] for item in small["results"]] == [f"Segment {i}" for i in range(7, 12)]
    assert len(as_demo.get(SEGMENTS, {"pageSize": 1000}).json()["results"]) == 28


@pytest.mark.parametrize("page", ["3", "0", "x", "99999999999999999999999"])
def test_a_page_past_the_end_is_not_found(as_demo, page):
    assert_envelope(as_demo.get(SEGMENTS, {"page": page}), "RESOURCE_NOT_FOUND", 404)


def test_patch_and_delete(as_demo, demo):
    segment = segment_of(demo)
    url = f"{SEGMENTS}{segment.pk}/"
    response = send(as_demo, "PATCH", url, {"description": "Updated."})
    assert response.status_code == 200
    assert response.json()["description"] == "Updated."
    assert response.json()["rules"] == RULES
    assert as_demo.delete(url).status_code == 204
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_unknown_id_is_not_found(as_demo):
    error = assert_envelope(as_demo.get(f"{SEGMENTS}999/"), "RESOURCE_NOT_FOUND", 404)
    assert error["message"] == "Segment 999 does not exist."
    for path in ("999999999999999999/", "9999999999999999999999/", "abc/", "-1/"):
        assert_envelope(as_demo.get(SEGMENTS + path), "RESOURCE_NOT_FOUND", 404)


def test_put_is_not_allowed(as_demo, demo):
    response = send(as_demo, "PUT", f"{SEGMENTS}{segment_of(demo).pk}/", {"name": "x"})
    assert_envelope(response, "METHOD_NOT_ALLOWED", 405)
    assert "PATCH" in response["Allow"]


def test_bad_operator_points_at_the_rule(as_demo):
    rules = {
        "all": [
            {"field": "country", "operator": "eq", "value": "US"},
            {"field": "age", "operator": "contains", "value": 18},
        ]
    }
    response = send(as_demo, "POST", SEGMENTS, {"name": "Adults", "rules": rules})
    error = assert_envelope(
        response, "INVALID_OPERATOR", 422, [("rules.all[1].operator", "INVALID_OPERATOR")]
    )
    assert error["message"] == error["details"][0]["message"]
    assert not Segment.objects.filter(name="Adults").exists()


def test_unknown_field_points_at_the_rule(as_demo):
    rules = {"any": [{"not": {"field": "favouriteColour", "operator": "eq", "value": "red"}}]}
    response = send(as_demo, "POST", SEGMENTS, {"name": "Reds", "rules": rules})
    assert_envelope(response, "UNKNOWN_FIELD", 422, [("rules.any[0].not.field", "UNKNOWN_FIELD")])


def test_structural_faults_are_invalid_segment_rule(as_demo):
    rules = {"all": [{"field": "age", "operator": "gt", "value": "eighteen"}, {"any": []}]}
    response = send(as_demo, "POST", SEGMENTS, {"name": "Broken", "rules": rules})
    assert_envelope(
        response,
        "INVALID_SEGMENT_RULE",
        422,
        [
            ("rules.all[0].value", "INVALID_SEGMENT_RULE"),
            ("rules.all[1].any", "INVALID_SEGMENT_RULE"),
        ],
    )


def test_mixed_problems_are_validation_error(as_demo):
    rules = {"all": [{"field": "colour", "operator": "eq", "value": "x"}]}
    response = send(as_demo, "POST", SEGMENTS, {"rules": rules, "colour": "red"})
    assert_envelope(
        response,
        "VALIDATION_ERROR",
        422,
        [
            ("name", "MISSING_FIELD"),
            ("rules.all[0].field", "UNKNOWN_FIELD"),
            ("colour", "INVALID_FIELD"),
        ],
    )


def test_rules_are_checked_on_patch(as_demo, demo):
    segment = segment_of(demo)
    response = send(
        as_demo,
        "PATCH",
        f"{SEGMENTS}{segment.pk}/",
        {"rules": {"not": {"field": "tags", "operator": "gt", "value": 1}}},
    )
    assert_envelope(response, "INVALID_OPERATOR", 422, [("rules.not.operator", "INVALID_OPERATOR")])
    segment.refresh_from_db()
    assert segment.rules == RULES


def test_validate_checks_without_saving(as_demo, as_viewer):
    count = Segment.objects.count()
    response = send(as_viewer, "POST", f"{SEGMENTS}validate/", {"rules": RULES})
    assert response.status_code == 200
    assert response.json() == {"valid": True}
    bad = {"all": [{"field": "age", "operator": "like", "value": 1}]}
    response = send(as_demo, "POST", f"{SEGMENTS}validate/", {"rules": bad})
    assert_envelope(
        response, "INVALID_OPERATOR", 422, [("rules.all[0].operator", "INVALID_OPERATOR")]
    )
    response = send(as_demo, "POST", f"{SEGMENTS}validate/", {})
    assert_envelope(response, "MISSING_FIELD", 422, [("rules", "MISSING_FIELD")])
    assert Segment.objects.count() == count


def test_fields_catalogue(as_viewer):
    response = as_viewer.get(f"{SEGMENTS}fields/")
    assert response.status_code == 200
    body = response.json()
    fields = {entry["name"]: entry for entry in body["fields"]}
    assert {name: entry["type"] for name, entry in fields.items()} == {
        "email": "string",
        "country": "string",
        "age": "number",
        "signedUpAt": "datetime",
        "isSubscribed": "boolean",
        "tags": "list",
    }
    assert "gte" in [op["name"] for op in fields["age"]["operators"]]
    assert body["limits"]["maxDepth"] == 5


def test_duplicate_name_is_duplicate_resource(as_demo, as_other, demo):
    segment_of(demo, "Taken")
    response = send(as_demo, "POST", SEGMENTS, {"name": "Taken", "rules": RULES})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409, [("name", "DUPLICATE_RESOURCE")])
    # Names are unique per owner: another user may use it.
    assert send(as_other, "POST", SEGMENTS, {"name": "Taken", "rules": RULES}).status_code == 201


def test_rename_onto_a_taken_name_is_duplicate_resource(as_demo, demo):
    segment_of(demo, "Taken")
    mine = segment_of(demo, "Free")
    url = f"{SEGMENTS}{mine.pk}/"
    response = send(as_demo, "PATCH", url, {"name": "Taken"})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409, [("name", "DUPLICATE_RESOURCE")])
    # Keeping one's own name is not a duplicate.
    assert send(as_demo, "PATCH", url, {"name": "Free"}).status_code == 200


def test_only_the_owner_changes_a_segment(as_other, demo):
    segment = segment_of(demo)
    url = f"{SEGMENTS}{segment.pk}/"
    assert as_other.get(url).status_code == 200
    error = assert_envelope(send(as_other, "PATCH", url, {"name": "Hijacked"}), "FORBIDDEN", 403)
    assert "another user" in error["message"]
    assert_envelope(as_other.delete(url), "FORBIDDEN", 403)
    segment.refresh_from_db()
    assert segment.name == "Mine"


def test_viewer_may_not_write(as_viewer, demo):
    segment = segment_of(demo)
    response = send(as_viewer, "PATCH", f"{SEGMENTS}{segment.pk}/", {"name": "x"})
    assert_envelope(response, "INVALID_SCOPE", 403)
    assert (
        response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="segments:write"'
    )


@pytest.mark.parametrize("status", [Campaign.SCHEDULED, Campaign.ACTIVE])
def test_deleting_a_segment_a_live_campaign_targets_is_resource_conflict(as_demo, demo, status):
    segment = segment_of(demo)
    campaign = Campaign.objects.create(owner=demo, name="Live", segment=segment, status=status)
    error = assert_envelope(as_demo.delete(f"{SEGMENTS}{segment.pk}/"), "RESOURCE_CONFLICT", 409)
    assert f"({campaign.pk})" in error["message"]
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_deleting_a_segment_of_drafts_clears_their_target(as_demo, demo):
    segment = segment_of(demo)
    campaign = Campaign.objects.create(owner=demo, name="Draft", segment=segment)
    assert as_demo.delete(f"{SEGMENTS}{segment.pk}/").status_code == 204
    campaign.refresh_from_db()
    assert campaign.segment is None


# Hostile input: a clear envelope, nothing stored, never a 500 --------------------------------


def deep(levels: int) -> Any:
    tree: Any = {"field": "age", "operator": "gt", "value": 1}
    for _ in range(levels):
        tree = {"all": [tree]}
    return tree


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"name": "Deep", "rules": deep(300)}, "INVALID_SEGMENT_RULE", 422),
        (
            {"name": "Wide", "rules": {"all": [{"field": "age"}] * 50_000}},
            "INVALID_SEGMENT_RULE",
            422,
        ),
        # A number is not text (the schema says string): both fields are wrong.
        ({"name": 5, "rules": []}, "VALIDATION_ERROR", 422),
        ({"name": ["x"], "description": {"a": 1}, "rules": "US"}, "VALIDATION_ERROR", 422),
        ({"name": "x" * 101, "rules": RULES}, "INVALID_FORMAT", 422),
        ({"name": "N\x00UL", "rules": RULES}, "INVALID_FORMAT", 422),
        ({"name": "ok", "description": "\ud800", "rules": RULES}, "INVALID_FORMAT", 422),
        (
            {"name": "ok", "rules": {"field": "email", "operator": "eq", "value": "a\x00b"}},
            "INVALID_FORMAT",
            422,
        ),
        ({"name": "ok", "rules": RULES, "\ud800": 1}, "INVALID_FIELD", 422),
        (["not", "an", "object"], "INVALID_FORMAT", 422),
        (None, "MISSING_FIELD", 422),
    ],
)
def test_hostile_bodies_are_answered(as_demo, body, code, status):
    count = Segment.objects.count()
    response = send(as_demo, "POST", SEGMENTS, body if body is not None else {})
    assert_envelope(response, code, status, _details(response))
    assert Segment.objects.count() == count


def _details(response: Any) -> list[tuple[str | None, str]] | None:
    error = json.loads(response.content)["error"]
    if "details" not in error:
        return None
    return [(item["field"], item["code"]) for item in error["details"]]


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"name": "x", "rules": ' + '{"not": ' * 50_000 + "{}" + "}" * 50_000 + "}",
        '{"name": "x", "rules": NaN}',
        '{"name": "x", "rules": 1' + "0" * 5000 + "}",
        '{"name": "x"',
        "\x00",
    ],
)
def test_unparseable_bodies_are_400(as_demo, raw):
    assert_envelope(send(as_demo, "POST", SEGMENTS, raw), "VALIDATION_ERROR", 400)


def test_overflowing_number_is_an_invalid_value(as_demo):
    # Python reads 1e999 as infinity; no database stores that in JSON.
    raw = '{"name": "x", "rules": {"field": "age", "operator": "eq", "value": 1e999}}'
    response = send(as_demo, "POST", SEGMENTS, raw)
    assert_envelope(
        response, "INVALID_SEGMENT_RULE", 422, [("rules.value", "INVALID_SEGMENT_RULE")]
    )


def test_a_duplicate_that_slips_past_the_check_is_caught_by_the_database(
    as_demo, demo, monkeypatch
):
    # Two requests racing: both pass the serializer's check before either has saved.
    segment_of(demo, "Raced")
    monkeypatch.setattr(
        "sandbox.segments.serializers.SegmentSerializer.validate_name", lambda self, value: value
    )
    response = send(as_demo, "POST", SEGMENTS, {"name": "Raced", "rules": RULES})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409)
    assert Segment.objects.filter(name="Raced").count() == 1

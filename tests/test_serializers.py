from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from rest_framework import serializers

from apierrors import serializers as apierrors_serializers

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def details(response) -> list[tuple[str, str]]:
    return [(d["field"], d["code"]) for d in response.json()["error"]["details"]]


def test_unknown_fields_are_invalid_field_including_nested(api_client):
    response = post(
        api_client,
        "/t/orders/strict/",
        {
            "title": "x",
            "bogus": 1,
            "item": {"name": "a", "zzz": 2},
            "items": [{"name": "b", "q": 1}],
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_FIELD"
    assert sorted(details(response)) == [
        ("bogus", "INVALID_FIELD"),
        ("item.zzz", "INVALID_FIELD"),
        ("items[0].q", "INVALID_FIELD"),
    ]


def test_unknown_fields_join_other_problems(api_client):
    response = post(api_client, "/t/orders/strict/", {"bogus": 1})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert sorted(details(response)) == [("bogus", "INVALID_FIELD"), ("title", "MISSING_FIELD")]


def test_read_only_fields_on_a_create_are_invalid_field(api_client):
    # A create has no current value to send back: the id would silently not be used.
    response = post(api_client, "/t/orders/strict/", {"id": 7, "title": "x"})
    assert response.status_code == 422
    assert details(response) == [("id", "INVALID_FIELD")]


class Shown(apierrors_serializers.RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    sentAt = serializers.DateTimeField(source="sent_at", read_only=True, allow_null=True)
    title = serializers.CharField()


class Owner:
    username = "demo"


class Row:
    id = 3
    status = "draft"
    owner = Owner()
    sent_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    title = "t"


def errors_of(data: dict[str, Any]) -> Any:
    serializer = Shown(instance=Row(), data=data, partial=True)
    serializer.is_valid()
    return {key: [error.code for error in value] for key, value in serializer.errors.items()}


def test_read_only_fields_sent_back_unchanged_are_accepted():
    assert errors_of({"id": 3, "status": "draft", "owner": "demo", "title": "new"}) == {}
    # The same time, written as the field shows it or with another offset.
    assert errors_of({"sentAt": "2030-01-02T03:04:05Z"}) == {}
    assert errors_of({"sentAt": "2030-01-02T05:04:05+02:00"}) == {}


@pytest.mark.parametrize(
    "data",
    [
        {"id": 4},
        {"status": "active"},
        {"owner": "someone else"},
        {"sentAt": "2031-01-01T00:00:00Z"},
        {"sentAt": None},
        {"sentAt": "not a time"},
        {"id": "3x"},
    ],
)
def test_read_only_fields_sent_with_another_value_are_invalid_field(data):
    assert errors_of(data) == dict.fromkeys(data, ["INVALID_FIELD"])


def test_read_only_changes_join_other_problems():
    serializer = Shown(instance=Row(), data={"status": "active", "title": "", "x": 1}, partial=True)
    assert not serializer.is_valid()
    assert {key: errors[0].code for key, errors in serializer.errors.items()} == {
        "title": "blank",
        "x": "INVALID_FIELD",
        "status": "INVALID_FIELD",
    }


def test_loose_serializers_drop_unknown_fields_by_default(api_client):
    response = post(api_client, "/t/orders/loose/", {"title": "x", "bogus": 1})
    assert response.status_code == 201


@pytest.fixture
def project_wide(settings):
    settings.APIERRORS = {"REJECT_UNKNOWN_FIELDS": True}
    original = serializers.Serializer.to_internal_value
    apierrors_serializers.install()
    yield
    serializers.Serializer.to_internal_value = original  # type: ignore[method-assign]


@pytest.mark.usefixtures("project_wide")
def test_project_wide_setting_rejects_unknown_fields_everywhere(api_client):
    response = post(api_client, "/t/orders/loose/", {"title": "x", "bogus": 1})
    assert response.status_code == 422
    assert details(response) == [("bogus", "INVALID_FIELD")]
    # Mixin serializers are not checked twice.
    response = post(api_client, "/t/orders/strict/", {"title": "x", "bogus": 1})
    assert details(response) == [("bogus", "INVALID_FIELD")]


@pytest.mark.usefixtures("project_wide")
def test_project_wide_opt_out(settings):
    class Relaxed(serializers.Serializer[Any]):
        reject_unknown_fields = False
        title = serializers.CharField()

    serializer = Relaxed(data={"title": "x", "extra": 1})
    assert serializer.is_valid()
    settings.APIERRORS = {"REJECT_UNKNOWN_FIELDS": False}

    class Plain(serializers.Serializer[Any]):
        title = serializers.CharField()

    assert Plain(data={"title": "x", "extra": 1}).is_valid()


def test_non_mapping_data_is_left_to_drf():
    class Strict(apierrors_serializers.RejectUnknownFieldsMixin, serializers.Serializer[Any]):
        title = serializers.CharField()

    serializer = Strict(data=["not", "a", "dict"])
    assert not serializer.is_valid()
    assert list(serializer.errors) == ["non_field_errors"]


def test_many_unknown_fields_are_reported_up_to_a_bound(api_client):
    body = {"title": "x", **{f"k{index}": 1 for index in range(1000)}}
    response = post(api_client, "/t/orders/strict/", body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_FIELD"
    fields = [d["field"] for d in error["details"]]
    assert fields[:20] == [f"k{index}" for index in range(20)]
    assert error["details"][20] == {
        "field": None,
        "code": "INVALID_FIELD",
        "message": "980 more fields are not accepted by this endpoint.",
    }
    assert len(fields) == 21

"""Campaigns end to end: CRUD, the lifecycle and every campaign code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from tests.sandbox.support import assert_envelope, send

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns/"
RULES = {"field": "country", "operator": "eq", "value": "US"}


def future(days: float = 1) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


@pytest.fixture
def segment(demo: Any) -> Segment:
    return Segment.objects.create(owner=demo, name="Target", rules=RULES)


def campaign_of(
    user: Any, status: str = Campaign.DRAFT, segment: Segment | None = None, **kw: Any
) -> Campaign:
    kw.setdefault("name", f"Campaign {Campaign.objects.count()}")
    return Campaign.objects.create(owner=user, status=status, segment=segment, **kw)


def url(campaign: Campaign, action: str = "") -> str:
    return f"{CAMPAIGNS}{campaign.pk}/{action + '/' if action else ''}"


def test_create_read_list(as_demo, segment):
    body = {"name": "Launch", "subject": "Hello", "body": "Hi there", "segmentId": segment.pk}
    response = send(as_demo, "POST", CAMPAIGNS, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {
        "id",
        "name",
        "subject",
        "body",
        "segmentId",
        "status",
        "sendAt",
        "owner",
        "createdAt",
        "updatedAt",
    }
    assert created["status"] == "draft"
    assert created["segmentId"] == segment.pk
    assert created["sendAt"] is None
    assert as_demo.get(f"{CAMPAIGNS}{created['id']}/").json() == created
    listing = as_demo.get(CAMPAIGNS).json()
    assert listing["count"] == 5
    assert created in listing["results"]


def test_the_whole_lifecycle(as_demo, segment):
    created = send(as_demo, "POST", CAMPAIGNS, {"name": "Cycle", "segmentId": segment.pk}).json()
    campaign = Campaign.objects.get(pk=created["id"])
    send_at = future(2)
    response = send(as_demo, "POST", url(campaign, "schedule"), {"sendAt": send_at})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"
    assert response.json()["sendAt"] is not None
    response = send(as_demo, "POST", url(campaign, "activate"))
    assert response.json()["status"] == "active"
    response = send(as_demo, "POST", url(campaign, "pause"), {})
    assert response.json()["status"] == "paused"
    response = send(as_demo, "POST", url(campaign, "activate"))
    assert response.json()["status"] == "active"
    send(as_demo, "POST", url(campaign, "pause"))
    response = send(as_demo, "PATCH", url(campaign), {"subject": "New"})
    assert response.json()["subject"] == "New"
    assert as_demo.delete(url(campaign)).status_code == 204


def test_schedule_in_the_past_is_invalid_schedule(as_demo, demo, segment):
    campaign = campaign_of(demo, segment=segment)
    response = send(as_demo, "POST", url(campaign, "schedule"), {"sendAt": "2020-01-01T09:00:00Z"})
    error = assert_envelope(response, "INVALID_SCHEDULE", 422, [("sendAt", "INVALID_SCHEDULE")])
    assert error["message"] == "sendAt must be in the future."
    campaign.refresh_from_db()
    assert campaign.status == Campaign.DRAFT


def test_schedule_too_far_ahead_is_invalid_schedule(as_demo, demo, segment):
    campaign = campaign_of(demo, segment=segment)
    response = send(as_demo, "POST", url(campaign, "schedule"), {"sendAt": future(400)})
    assert_envelope(response, "INVALID_SCHEDULE", 422, [("sendAt", "INVALID_SCHEDULE")])


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({}, [("sendAt", "MISSING_FIELD")]),
        ({"sendAt": "next tuesday"}, [("sendAt", "INVALID_FORMAT")]),
        ({"sendAt": 12}, [("sendAt", "INVALID_FORMAT")]),
        ({"sendAt": "2030-02-30T00:00:00Z"}, [("sendAt", "INVALID_FORMAT")]),
        ({"sendAt": future(), "sendat": 1}, [("sendat", "INVALID_FIELD")]),
    ],
)
def test_schedule_body_is_validated(as_demo, demo, segment, body, details):
    campaign = campaign_of(demo, segment=segment)
    response = send(as_demo, "POST", url(campaign, "schedule"), body)
    assert_envelope(response, details[0][1], 422, details)


def test_reschedule(as_demo, demo, segment):
    campaign = campaign_of(demo, Campaign.SCHEDULED, segment, send_at=timezone.now())
    response = send(as_demo, "POST", url(campaign, "schedule"), {"sendAt": future(3)})
    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"


def test_schedule_without_segment_is_segment_required(as_demo, demo):
    campaign = campaign_of(demo)
    response = send(as_demo, "POST", url(campaign, "schedule"), {"sendAt": future()})
    error = assert_envelope(response, "SEGMENT_REQUIRED", 422)
    assert "segmentId" in error["message"]


def test_activate_without_segment_is_segment_required(as_demo, demo):
    response = send(as_demo, "POST", url(campaign_of(demo), "activate"))
    assert_envelope(response, "SEGMENT_REQUIRED", 422)


def test_activate_a_draft_is_campaign_not_scheduled(as_demo, demo, segment):
    campaign = campaign_of(demo, segment=segment)
    error = assert_envelope(
        send(as_demo, "POST", url(campaign, "activate")), "CAMPAIGN_NOT_SCHEDULED", 409
    )
    assert (
        error["message"] == f"Campaign {campaign.pk} is a draft; schedule it before activating it."
    )


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("PATCH", "", {"subject": "Changed"}),
        ("POST", "schedule", {"sendAt": "2030-01-01T00:00:00Z"}),
        ("POST", "activate", None),
        ("DELETE", "", None),
    ],
)
def test_changing_an_active_campaign_is_campaign_already_active(
    as_demo, demo, segment, method, action, body
):
    campaign = campaign_of(demo, Campaign.ACTIVE, segment, subject="Original")
    response = send(as_demo, method, url(campaign, action), body)
    assert_envelope(response, "CAMPAIGN_ALREADY_ACTIVE", 409)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.subject) == (Campaign.ACTIVE, "Original")


def test_the_seeded_active_campaign_cannot_be_edited(as_demo):
    campaign = Campaign.objects.get(name="Summer launch")
    response = send(as_demo, "PATCH", url(campaign), {"name": "Autumn launch"})
    assert_envelope(response, "CAMPAIGN_ALREADY_ACTIVE", 409)


@pytest.mark.parametrize("status", [Campaign.DRAFT, Campaign.SCHEDULED, Campaign.PAUSED])
def test_pausing_what_is_not_active_is_resource_conflict(as_demo, demo, segment, status):
    campaign = campaign_of(demo, status, segment)
    assert_envelope(send(as_demo, "POST", url(campaign, "pause")), "RESOURCE_CONFLICT", 409)


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("PATCH", "", {"subject": "x"}),
        ("POST", "schedule", {"sendAt": "2030-01-01T00:00:00Z"}),
        ("POST", "activate", None),
    ],
)
def test_a_completed_campaign_never_changes(as_demo, demo, segment, method, action, body):
    campaign = campaign_of(demo, Campaign.COMPLETED, segment)
    assert_envelope(send(as_demo, method, url(campaign, action), body), "RESOURCE_CONFLICT", 409)


def test_unscheduling_the_segment_of_a_scheduled_campaign_is_segment_required(
    as_demo, demo, segment
):
    campaign = campaign_of(demo, Campaign.SCHEDULED, segment)
    response = send(as_demo, "PATCH", url(campaign), {"segmentId": None})
    assert_envelope(response, "SEGMENT_REQUIRED", 422, [("segmentId", "SEGMENT_REQUIRED")])


def test_duplicate_name_is_duplicate_resource(as_demo, demo):
    response = send(as_demo, "POST", CAMPAIGNS, {"name": "Spring sale"})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409, [("name", "DUPLICATE_RESOURCE")])
    draft = campaign_of(demo, name="Other")
    response = send(as_demo, "PATCH", url(draft), {"name": "Spring sale"})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409, [("name", "DUPLICATE_RESOURCE")])


def test_everyone_reads_only_the_owner_changes(as_other, as_viewer, demo, segment):
    campaign = campaign_of(demo, segment=segment, name="Demo's")
    assert as_other.get(url(campaign)).json()["owner"] == "demo"
    assert as_viewer.get(url(campaign)).status_code == 200
    for method, action, body in [
        ("PATCH", "", {"subject": "x"}),
        ("POST", "schedule", {"sendAt": future()}),
        ("POST", "activate", None),
        ("POST", "pause", None),
        ("DELETE", "", None),
    ]:
        response = send(as_other, method, url(campaign, action), body)
        error = assert_envelope(response, "FORBIDDEN", 403)
        assert error["message"] == (
            f"Campaign {campaign.pk} belongs to another user; only its owner may change it."
        )
    response = send(as_viewer, "POST", url(campaign, "activate"))
    assert_envelope(response, "INVALID_SCOPE", 403)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.DRAFT


def test_unknown_campaign_is_resource_not_found(as_demo):
    for method, action in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "schedule"),
        ("POST", "activate"),
        ("POST", "pause"),
    ]:
        response = send(
            as_demo,
            method,
            f"{CAMPAIGNS}424242/{action + '/' if action else ''}",
            {} if method != "GET" else None,
        )
        error = assert_envelope(response, "RESOURCE_NOT_FOUND", 404)
        assert error["message"] == "Campaign 424242 does not exist."


@pytest.mark.parametrize(
    ("segment_id", "code"),
    [
        ("abc", "INVALID_FORMAT"),
        (True, "INVALID_FORMAT"),
        (0, "INVALID_FORMAT"),
        (10**30, "INVALID_FORMAT"),
        ([1], "INVALID_FORMAT"),
        (987654, "VALIDATION_ERROR"),
    ],
)
def test_segment_id_is_validated(as_demo, segment_id, code):
    response = send(as_demo, "POST", CAMPAIGNS, {"name": "Bad target", "segmentId": segment_id})
    assert_envelope(response, code, 422, [("segmentId", code)])


def test_another_users_segment_cannot_be_targeted(as_other, segment):
    response = send(as_other, "POST", CAMPAIGNS, {"name": "Borrowed", "segmentId": segment.pk})
    error = assert_envelope(response, "VALIDATION_ERROR", 422, [("segmentId", "VALIDATION_ERROR")])
    assert error["message"] == f"Segment {segment.pk} does not exist or is not yours."


def test_actions_reject_bodies_they_do_not_take(as_demo, demo, segment):
    campaign = campaign_of(demo, Campaign.SCHEDULED, segment)
    response = send(as_demo, "POST", url(campaign, "activate"), {"force": True})
    assert_envelope(response, "INVALID_FIELD", 422, [("force", "INVALID_FIELD")])
    campaign.refresh_from_db()
    assert campaign.status == Campaign.SCHEDULED


def test_status_and_send_at_are_not_writable(as_demo, demo, segment):
    campaign = campaign_of(demo, segment=segment)
    response = send(as_demo, "PATCH", url(campaign), {"status": "active", "sendAt": future()})
    assert_envelope(
        response, "INVALID_FIELD", 422, [("status", "INVALID_FIELD"), ("sendAt", "INVALID_FIELD")]
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.send_at) == (Campaign.DRAFT, None)


def test_read_only_fields_sent_back_as_read_are_accepted(as_demo, demo, segment):
    campaign = campaign_of(demo, segment=segment)
    shown = send(as_demo, "GET", url(campaign)).json()
    response = send(as_demo, "PATCH", url(campaign), {**shown, "subject": "Changed"})
    assert response.status_code == 200, response.content
    assert response.json()["subject"] == "Changed"


@pytest.mark.parametrize(
    ("field", "value"), [("id", 999), ("owner", "viewer"), ("status", "completed")]
)
def test_read_only_fields_sent_with_another_value_are_invalid_field(
    as_demo, demo, segment, field, value
):
    campaign = campaign_of(demo, segment=segment)
    response = send(as_demo, "PATCH", url(campaign), {field: value, "subject": "Changed"})
    assert_envelope(response, "INVALID_FIELD", 422, [(field, "INVALID_FIELD")])
    campaign.refresh_from_db()
    assert campaign.subject == ""


def test_a_completed_campaign_cannot_be_deleted(as_demo, demo, segment):
    campaign = campaign_of(demo, Campaign.COMPLETED, segment)
    response = send(as_demo, "DELETE", url(campaign))
    assert_envelope(response, "RESOURCE_CONFLICT", 409)
    assert Campaign.objects.filter(pk=campaign.pk).exists()


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("schedule", ["sendAt"]),
        ("activate", []),
        ("pause", []),
    ],
)
def test_options_on_an_action_describe_its_own_body(as_demo, demo, segment, action, fields):
    campaign = campaign_of(demo, segment=segment)
    response = as_demo.options(url(campaign, action))
    assert response.status_code == 200
    assert sorted(response.json()["actions"]["POST"]) == fields


def test_a_duplicate_that_slips_past_the_check_is_caught_by_the_database(as_demo, monkeypatch):
    monkeypatch.setattr(
        "sandbox.campaigns.serializers.CampaignSerializer.validate_name",
        lambda self, value: value,
    )
    response = send(as_demo, "POST", CAMPAIGNS, {"name": "Spring sale"})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409)
    assert Campaign.objects.filter(name="Spring sale").count() == 1

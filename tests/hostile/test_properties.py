"""Generated segment rules and campaign payloads, end to end through the API.

The sandbox's own property tests check that no body gives a 500 and that the rule
validator is bounded; these check that the API keeps its word: the validate route and the
create route agree, what is accepted reads back exactly as sent, what is refused writes
nothing and points at a part of the body that was sent. Text that no PostgreSQL column
stores (NUL, lone surrogates) is generated on purpose and must be refused, so the same
examples hold on PostgreSQL and SQLite.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.campaigns.models import Campaign
from sandbox.segments import rules as catalogue
from sandbox.segments.models import Segment
from tests.hostile.support import assert_refused, snapshot

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TEXT = st.text(max_size=8) | st.sampled_from(
    ["", "\x00", "a\x00", "\ud800", "US", "x" * 501, "caf\u00e9", " ", "\u202e"]
)
NUMBER = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, -0.0, 1e308, 36500, 36501])
)
DATETIME = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | st.sampled_from(
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2024-02-30T00:00:00Z", "later"]
)
VALUE = st.one_of(
    TEXT,
    NUMBER,
    st.booleans(),
    st.none(),
    DATETIME,
    st.lists(TEXT, max_size=4),
    st.lists(NUMBER, min_size=2, max_size=2),
    st.lists(DATETIME, min_size=2, max_size=2),
)
FIELD_NAMES = st.sampled_from([*catalogue.FIELDS, "unknown", "Age", ""])
OPERATOR_NAMES = st.sampled_from(
    sorted({name for ops in catalogue.OPERATORS.values() for name in ops} | {"like", ""})
)
CONDITIONS = st.fixed_dictionaries(
    {"field": FIELD_NAMES, "operator": OPERATOR_NAMES, "value": VALUE},
    optional={"extra": VALUE},
)
RULE_TREES = st.recursive(
    CONDITIONS,
    lambda children: (
        st.builds(lambda rules: {"all": rules}, st.lists(children, min_size=1, max_size=3))
        | st.builds(lambda rules: {"any": rules}, st.lists(children, min_size=0, max_size=3))
        | st.builds(lambda rule: {"not": rule}, children)
    ),
    max_leaves=8,
)


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def sent_paths(body: Any, prefix: str = "") -> set[str]:
    """Every dotted path of ``body`` (``rules.all[0].value``), as details name them."""
    paths = {prefix} if prefix else set()
    if isinstance(body, dict):
        for key, value in body.items():
            paths |= sent_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            paths |= sent_paths(value, f"{prefix}[{index}]")
    return paths


@PROPERTY_SETTINGS
@given(tree=RULE_TREES)
def test_validate_and_create_agree_and_accepted_rules_read_back(as_demo, tree):
    checked = post(as_demo, "/api/v1/segments/validate/", {"rules": tree})
    before = snapshot()
    created = post(as_demo, "/api/v1/segments/", {"name": "Generated", "rules": tree})
    if checked.status_code == 200:
        assert created.status_code == 201, created.content
        segment_id = created.json()["id"]
        read = as_demo.get(f"/api/v1/segments/{segment_id}/").json()
        # Stored and read back exactly: no number rounded, no time re-zoned.
        assert json.dumps(read["rules"], sort_keys=True) == json.dumps(tree, sort_keys=True)
        Segment.objects.filter(pk=segment_id).delete()
        return
    error = assert_refused(checked, 422)
    created_error = assert_refused(created, 422)
    assert snapshot() == before
    assert created_error["details"] == error["details"]
    assert len(error["details"]) <= catalogue.MAX_PROBLEMS
    paths = sent_paths({"rules": tree})
    for item in error["details"]:
        field = item["field"]
        assert field is not None
        assert field in paths or field.rsplit(".", 1)[0] in paths, (field, paths)


NAMES = TEXT | st.text(min_size=95, max_size=105) | st.sampled_from(["Spring sale", "  x  "])
CAMPAIGN_FIELDS = {
    "name": NAMES,
    "subject": TEXT | st.text(min_size=199, max_size=201),
    "body": TEXT,
    "segmentId": st.none() | NUMBER | TEXT | st.sampled_from([1, 2, 3, 999, "1", True, [1]]),
}
CAMPAIGNS = st.fixed_dictionaries(
    {},
    optional={
        **CAMPAIGN_FIELDS,
        "status": st.sampled_from(["active", "draft"]),
        "sendAt": DATETIME,
        "owner": TEXT,
        "id": NUMBER,
        "unexpected": VALUE,
    },
)


@PROPERTY_SETTINGS
@given(body=CAMPAIGNS)
def test_campaign_payloads_are_stored_as_sent_or_refused_without_a_trace(as_demo, demo, body):
    before = snapshot()
    response = post(as_demo, "/api/v1/campaigns/", body)
    if response.status_code == 201:
        created = response.json()
        campaign = Campaign.objects.get(pk=created["id"])
        assert campaign.owner == demo
        assert campaign.status == Campaign.DRAFT
        assert campaign.send_at is None
        assert campaign.name == str(body["name"]).strip()
        for name in ("subject", "body"):
            if name in body:
                assert getattr(campaign, name) == str(body[name]).strip()
        assert as_demo.get(f"/api/v1/campaigns/{campaign.pk}/").json() == created
        campaign.delete()
        return
    assert_refused(response)
    assert response.status_code in {409, 422}, response.content
    assert snapshot() == before
    error = response.json()["error"]
    for item in error.get("details", []):
        # A problem names a field that was sent, or a required one that was not.
        assert item["field"] is None or item["field"] in body or item["field"] == "name", item


@PROPERTY_SETTINGS
@given(body=st.fixed_dictionaries({}, optional=CAMPAIGN_FIELDS))
def test_campaign_patches_change_only_what_they_name(as_demo, demo, body):
    campaign = Campaign.objects.get(name="Spring sale")
    before = snapshot()
    response = as_demo.patch(
        f"/api/v1/campaigns/{campaign.pk}/", json.dumps(body), content_type="application/json"
    )
    if response.status_code >= 400:
        assert_refused(response)
        assert snapshot() == before
        return
    assert response.status_code == 200
    after = Campaign.objects.get(pk=campaign.pk)
    for name in ("subject", "body"):
        expected = str(body[name]).strip() if name in body else getattr(campaign, name)
        assert getattr(after, name) == expected
    assert after.status == campaign.status
    campaign.save()  # restore for the next example

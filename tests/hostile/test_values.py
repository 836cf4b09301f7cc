"""Values out of range: huge, infinite, negative-zero and NaN numbers; dates at and past the
ends of the calendar; ids and page numbers no database column holds. Each is answered (a
success where the value is fine, else a 4xx envelope), and what is stored reads back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from sandbox.social.models import Connection
from tests.hostile.support import assert_answered, assert_refused, unchanged

pytestmark = pytest.mark.django_db

BIG = "1" + "0" * 400  # 10**400: Python reads it; no float or 64-bit column holds it

NUMBERS = ["1e999", "-1e999", BIG, "-" + BIG, "-0", "-0.0", "0.0", "1.0", "1e18", "5e-324"]
NUMBERS += [str(2**63), str(2**64), "1.7976931348623157e308", '"1"', "true", "[1]", "{}"]


def send_raw(client: Any, method: str, url: str, raw: str) -> Any:
    return getattr(client, method.lower())(url, raw, content_type="application/json")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "+1", "01", ".5", "1.", "0x1"])
def test_non_json_number_literals_are_400(as_demo, number):
    with unchanged():
        response = send_raw(
            as_demo, "POST", "/api/v1/campaigns/", f'{{"name": "n", "segmentId": {number}}}'
        )
    assert_refused(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("number", NUMBERS)
def test_out_of_range_segment_ids_are_invalid_format(as_demo, demo, number):
    segment = Segment.objects.filter(owner=demo).first()
    assert segment is not None
    raw = f'{{"name": "Ranged", "segmentId": {number}}}'
    response = send_raw(as_demo, "POST", "/api/v1/campaigns/", raw)
    if response.status_code == 201:
        # Only integral numbers naming the user's own segment are accepted.
        assert response.json()["segmentId"] == segment.pk
        return
    assert_refused(response, 422)
    assert not Campaign.objects.filter(name="Ranged").exists()


OPERATORS = [
    ("age", "gt"),
    ("age", "eq"),
    ("age", "between"),
    ("signedUpAt", "withinLastDays"),
    ("isSubscribed", "eq"),
]


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize(("field", "operator"), OPERATORS)
def test_out_of_range_numbers_in_rules_are_answered(as_demo, field, operator, number):
    value = f"[{number}, {number}]" if operator == "between" else number
    raw = (
        f'{{"name": "N {field} {operator}", '
        f'"rules": {{"field": "{field}", "operator": "{operator}", "value": {value}}}}}'
    )
    response = send_raw(as_demo, "POST", "/api/v1/segments/", raw)
    assert_answered(response)
    if response.status_code == 201:
        # What was stored reads back, through the list and the object itself.
        segment_id = response.json()["id"]
        assert as_demo.get(f"/api/v1/segments/{segment_id}/").status_code == 200
        assert as_demo.get("/api/v1/segments/").status_code == 200
    else:
        assert response.status_code == 422


@pytest.mark.parametrize(
    "page", [BIG, "-0", "-1", "0", "1e999", "NaN", "1.5", "%00", "%FF", "last", "9" * 30, ""]
)
def test_out_of_range_pages_are_answered(as_demo, page):
    response = as_demo.get(f"/api/v1/segments/?page={page}")
    assert_answered(response)
    if response.status_code >= 400:
        assert_refused(response, 404, "RESOURCE_NOT_FOUND")


@pytest.mark.parametrize(
    "pk", [BIG, "9" * 18, "9" * 19, str(2**63), "0", "-1", "%00", "1%00", "1.0", "%FF", "1e3"]
)
def test_out_of_range_ids_in_urls_are_not_found(as_demo, pk):
    for collection in ("segments", "campaigns", "social/connections"):
        response = as_demo.get(f"/api/v1/{collection}/{pk}/")
        assert_refused(response, 404, "RESOURCE_NOT_FOUND")
        response = as_demo.patch(
            f"/api/v1/{collection}/{pk}/", "{}", content_type="application/json"
        )
        assert response.status_code in {404, 405}
        assert_refused(response)


DATES = [
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "9999-12-31T23:59:59.999999Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T00:00:60Z",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00+99:99",
    "2024-01-01T00:00:00.12345678901234567890Z",
    "2024-01-01T00:00:00" + "0" * 5000,
    "2024-01-01",
    "1e999",
    "",
    "\u0000",
    "\ud800",
]


@pytest.mark.parametrize("date", DATES)
def test_out_of_range_send_times_are_refused(as_demo, date):
    campaign = Campaign.objects.get(name="Spring sale")
    with unchanged():
        response = as_demo.post(
            f"/api/v1/campaigns/{campaign.pk}/schedule/",
            json.dumps({"sendAt": date}),
            content_type="application/json",
        )
    error = assert_refused(response, 422)
    assert error["code"] in {"INVALID_FORMAT", "INVALID_SCHEDULE"}


@pytest.mark.parametrize("date", DATES)
def test_connection_expiry_at_the_ends_of_the_calendar(as_demo, date):
    body = {"platform": "chirp", "accessToken": "token", "expiresAt": date}
    response = as_demo.post(
        "/api/v1/social/connections/", json.dumps(body), content_type="application/json"
    )
    assert_answered(response)
    if response.status_code != 201:
        assert response.status_code == 422
        return
    # A time that was accepted is stored in UTC and reads back, and can be published through.
    connection = Connection.objects.get(pk=response.json()["id"])
    offset = connection.expires_at.utcoffset()
    assert offset is not None
    assert offset.total_seconds() == 0
    assert as_demo.get("/api/v1/social/connections/").status_code == 200
    posted = as_demo.post(
        f"/api/v1/social/connections/{connection.pk}/posts/",
        json.dumps({"content": "Hello"}),
        content_type="application/json",
    )
    assert_answered(posted)


@pytest.mark.parametrize("date", DATES)
@pytest.mark.parametrize("operator", ["before", "after", "between"])
def test_rule_dates_at_the_ends_of_the_calendar(as_demo, operator, date):
    value: Any = [date, date] if operator == "between" else date
    rules = {"field": "signedUpAt", "operator": operator, "value": value}
    response = as_demo.post(
        "/api/v1/segments/validate/", json.dumps({"rules": rules}), content_type="application/json"
    )
    assert_answered(response)


def test_rule_dates_across_time_zones_compare_without_overflow(as_demo):
    rules = {
        "field": "signedUpAt",
        "operator": "between",
        "value": ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"],
    }
    response = as_demo.post(
        "/api/v1/segments/validate/", json.dumps({"rules": rules}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    reversed_rules = {**rules, "value": rules["value"][::-1]}
    response = as_demo.post(
        "/api/v1/segments/validate/",
        json.dumps({"rules": reversed_rules}),
        content_type="application/json",
    )
    assert_answered(response)

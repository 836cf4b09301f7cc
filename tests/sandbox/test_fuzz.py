"""Any JSON body on any write route: an answer or an envelope, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from sandbox.social.models import Connection
from tests.sandbox.support import REQUEST_ID

pytestmark = pytest.mark.django_db

NAMES = [
    "name", "description", "rules", "subject", "body", "segmentId", "sendAt", "status",
    "platform", "accessToken", "expiresAt", "simulate", "content", "username", "password",
    "refresh", "all", "any", "not", "field", "operator", "value",
]  # fmt: skip
TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), max_size=12
) | st.sampled_from(
    [
        "",
        "\x00",
        "\ud800",
        "US",
        "2030-01-01T00:00:00Z",
        "2020-01-01T00:00:00Z",
        "age",
        "eq",
        "chirp",
        "demo",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES) | TEXT, children, max_size=4)
    ),
    max_leaves=25,
)
BODIES = st.dictionaries(st.sampled_from(NAMES) | TEXT, VALUES, max_size=6) | VALUES

ROUTES = [
    ("POST", "/api/v1/auth/token/"),
    ("POST", "/api/v1/auth/token/refresh/"),
    ("POST", "/api/v1/segments/"),
    ("PATCH", "/api/v1/segments/{segment}/"),
    ("POST", "/api/v1/segments/validate/"),
    ("POST", "/api/v1/campaigns/"),
    ("PATCH", "/api/v1/campaigns/{draft}/"),
    ("POST", "/api/v1/campaigns/{draft}/schedule/"),
    ("POST", "/api/v1/campaigns/{scheduled}/activate/"),
    ("POST", "/api/v1/social/connections/"),
    ("POST", "/api/v1/social/connections/{connection}/posts/"),
]


@pytest.fixture
def unthrottled(settings: Any) -> None:
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates.update({"user": "1000000/hour", "token": "1000000/hour", "anon": "1000000/hour"})
    rates["campaign-writes"] = "1000000/hour"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.mark.parametrize(("method", "template"), ROUTES)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES)
@example(body={"name": "Renamed by an example"})  # succeeds on the draft: rolled back
def test_any_body_is_answered_without_a_500(as_demo, demo, unthrottled, method, template, body):
    # Each example from the same data: one that succeeds (a PATCH renaming the draft) is
    # rolled back, so that the next finds what it looks for, and a replay what it found.
    with transaction.atomic():
        _answer_without_a_500(as_demo, demo, method, template, body)
        transaction.set_rollback(True)


def _answer_without_a_500(as_demo: Any, demo: Any, method: str, template: str, body: Any) -> None:
    segment = Segment.objects.filter(owner=demo).first()
    assert segment is not None
    url = template.format(
        segment=segment.pk,
        draft=Campaign.objects.get(name="Spring sale").pk,
        scheduled=Campaign.objects.get(name="Welcome series").pk,
        connection=Connection.objects.get(owner=demo, platform="chirp").pk,
    )
    payload = json.dumps(body, allow_nan=False) if _finite(body) else "[1e999]"
    response = getattr(as_demo, method.lower())(url, payload, content_type="application/json")
    assert response.status_code < 500 or response.status_code == 502, response.content
    if response.status_code >= 400:
        error = json.loads(response.content)["error"]
        assert REQUEST_ID.fullmatch(error["requestId"])
        assert error["requestId"] == response["X-Request-ID"]


def _finite(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True

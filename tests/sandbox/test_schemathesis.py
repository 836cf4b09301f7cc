"""Schemathesis over the sandbox's OpenAPI schema: no answer contradicts the schema.

Every operation is called with generated requests, valid and invalid, with a real access
token of the demo user (every scope), and every answer is checked: no 500, a documented
status, content type and headers, a body that matches the documented schema, valid
requests accepted and invalid ones refused. Operations on one object run twice: with
generated ids (mostly 404) and with the ids of objects that exist, demo's and another
user's. The throttles' rates are raised so that the run measures conformance, not quotas
(the 429s stay documented and are checked where they still occur: a social platform's own
limit). Sequences of calls then walk a campaign through its life, each answer checked.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import strategies as st

from sandbox.accounts import scopes
from sandbox.accounts.models import Profile
from sandbox.accounts.tokens import access_token_for
from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from sandbox.social.models import Connection
from tests import schemathesis_support as support

pytestmark = pytest.mark.django_db

OPERATIONS = [
    "POST /api/v1/auth/token/",
    "POST /api/v1/auth/token/refresh/",
    "GET /api/v1/campaigns/",
    "POST /api/v1/campaigns/",
    "GET /api/v1/campaigns/{id}/",
    "PATCH /api/v1/campaigns/{id}/",
    "DELETE /api/v1/campaigns/{id}/",
    "POST /api/v1/campaigns/{id}/activate/",
    "POST /api/v1/campaigns/{id}/pause/",
    "POST /api/v1/campaigns/{id}/schedule/",
    "GET /api/v1/segments/",
    "POST /api/v1/segments/",
    "GET /api/v1/segments/{id}/",
    "PATCH /api/v1/segments/{id}/",
    "DELETE /api/v1/segments/{id}/",
    "GET /api/v1/segments/fields/",
    "POST /api/v1/segments/validate/",
    "GET /api/v1/social/connections/",
    "POST /api/v1/social/connections/",
    "GET /api/v1/social/connections/{id}/",
    "POST /api/v1/social/connections/{id}/posts/",
]

# A schema-valid request may still be refused with 422 for a rule JSON Schema cannot state,
# each a documented code of the operation:
# - schedule: sendAt must be in the future (INVALID_SCHEDULE), the campaign needs a segment
#   (SEGMENT_REQUIRED);
# - activate: the campaign needs a segment (SEGMENT_REQUIRED);
# - campaigns: segmentId must name one of the caller's segments (VALIDATION_ERROR);
# - segments: rules nest at most 5 levels, a range's low end is not above its high end
#   (INVALID_SEGMENT_RULE);
# - posts: the platform's length limit and blocked terms (CONTENT_REJECTED);
# - names of campaigns and segments: no control, format or private-use character
#   (INVALID_FORMAT; a pattern of every such character makes generation too slow to run).
STATE_RULES: dict[str, set[str]] = {
    "POST /api/v1/campaigns/{id}/schedule/": {"INVALID_SCHEDULE", "SEGMENT_REQUIRED"},
    "POST /api/v1/campaigns/{id}/activate/": {"SEGMENT_REQUIRED"},
    "POST /api/v1/campaigns/": {"VALIDATION_ERROR", "INVALID_FORMAT"},
    "PATCH /api/v1/campaigns/{id}/": {"VALIDATION_ERROR", "SEGMENT_REQUIRED", "INVALID_FORMAT"},
    "POST /api/v1/segments/": {"INVALID_SEGMENT_RULE", "INVALID_FORMAT", "VALIDATION_ERROR"},
    "PATCH /api/v1/segments/{id}/": {"INVALID_SEGMENT_RULE", "INVALID_FORMAT", "VALIDATION_ERROR"},
    "POST /api/v1/segments/validate/": {"INVALID_SEGMENT_RULE"},
    "POST /api/v1/social/connections/{id}/posts/": {"CONTENT_REJECTED"},
}

MAX_EXAMPLES = 40


def refused_only_for_unstated_rules(ctx: Any, response: Any, case: Any) -> None:
    """A schema-valid request answered 422 carries one of the codes of ``STATE_RULES``."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    code = json.loads(response.content)["error"]["code"]
    allowed = STATE_RULES.get(case.operation.label, set())
    assert code in allowed, f"a schema-valid request was refused with {code}"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result: dict[str, Any] = SchemaGenerator(urlconf="sandbox.urls").get_schema(
        request=None, public=True
    )
    return result


@pytest.fixture
def roomy_throttles(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "user": "1000000/hour",
            "anon": "1000000/hour",
            "token": "1000000/hour",
            "campaign-writes": ["1000000/second", "1000000/hour"],
        },
    }


@pytest.fixture
def world(db: Any) -> dict[str, list[int]]:
    """The demo data plus another user's segment, campaign and connection; the ids of the
    objects each kind of path can name."""
    call_command("seed_demo", stdout=io.StringIO())
    other = get_user_model().objects.create_user("other", password="other-password")
    Profile.objects.create(user=other, scopes=" ".join(scopes.ALL))
    segment = Segment.objects.create(
        owner=other, name="Theirs", rules={"field": "age", "operator": "gte", "value": 21}
    )
    Campaign.objects.create(owner=other, name="Theirs", segment=segment)
    return {
        "campaigns": list(Campaign.objects.values_list("pk", flat=True)),
        "segments": list(Segment.objects.values_list("pk", flat=True)),
        "social/connections": list(Connection.objects.values_list("pk", flat=True)),
    }


@pytest.fixture
def headers(world: dict[str, list[int]]) -> dict[str, str]:
    demo = get_user_model().objects.get(username="demo")
    return {"Authorization": f"Bearer {access_token_for(demo)}"}


def test_every_operation_is_covered(schema: dict[str, Any]) -> None:
    assert sorted(support.operations(support.load(schema))) == sorted(OPERATIONS)


@pytest.mark.usefixtures("roomy_throttles")
@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms(
    label: str,
    schema: dict[str, Any],
    world: dict[str, list[int]],
    headers: dict[str, str],
) -> None:
    accepted = [422] if label in STATE_RULES else []
    operation = support.operations(support.load(schema, accepted=accepted, failures=[502]))[label]
    checks = [refused_only_for_unstated_rules]
    support.run(operation, headers=headers, max_examples=MAX_EXAMPLES, extra_checks=checks)
    if "{id}" in label:
        kind = label.split(" ")[1].removeprefix("/api/v1/").split("/{id}")[0]
        ids = st.sampled_from(world[kind]).map(lambda pk: {"id": pk})
        support.run(
            operation,
            headers=headers,
            max_examples=MAX_EXAMPLES,
            path_parameters=ids,
            extra_checks=checks,
        )


# Sequences: each step's answer is checked against the schema like the generated ones.


def later(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.usefixtures("roomy_throttles")
def test_campaign_life_cycle(schema: dict[str, Any], headers: dict[str, str]) -> None:
    ops = support.operations(support.load(schema))

    def step(label: str, status: int, body: Any = None, **path: Any) -> Any:
        response = support.check_response(
            ops[label], headers=headers, body=body, path_parameters=path
        )
        assert response.status_code == status, response.content
        return json.loads(response.content) if response.content else None

    rules = {"all": [{"field": "age", "operator": "between", "value": [18, 65]}]}
    segment = step("POST /api/v1/segments/", 201, {"name": "Working age", "rules": rules})
    campaign = step("POST /api/v1/campaigns/", 201, {"name": "Autumn", "segmentId": segment["id"]})
    assert campaign["sendAt"] is None
    step("POST /api/v1/campaigns/{id}/activate/", 409, id=campaign["id"])  # not scheduled
    step("POST /api/v1/campaigns/{id}/schedule/", 422, {"sendAt": later(-1)}, id=campaign["id"])
    scheduled = step(
        "POST /api/v1/campaigns/{id}/schedule/", 200, {"sendAt": later(7)}, id=campaign["id"]
    )
    assert scheduled["status"] == "scheduled"
    step("PATCH /api/v1/campaigns/{id}/", 422, {"segmentId": None}, id=campaign["id"])
    step("DELETE /api/v1/segments/{id}/", 409, id=segment["id"])  # a live campaign uses it
    step("POST /api/v1/campaigns/{id}/activate/", 422, {"extra": 1}, id=campaign["id"])
    active = step("POST /api/v1/campaigns/{id}/activate/", 200, {}, id=campaign["id"])
    assert active["status"] == "active"
    step("POST /api/v1/campaigns/{id}/activate/", 409, id=campaign["id"])
    step("PATCH /api/v1/campaigns/{id}/", 409, {"subject": "Later"}, id=campaign["id"])
    step("DELETE /api/v1/campaigns/{id}/", 409, id=campaign["id"])
    step("POST /api/v1/campaigns/{id}/pause/", 200, id=campaign["id"])
    step("POST /api/v1/campaigns/{id}/pause/", 409, id=campaign["id"])
    step("DELETE /api/v1/campaigns/{id}/", 204, id=campaign["id"])
    step("DELETE /api/v1/segments/{id}/", 204, id=segment["id"])
    step("GET /api/v1/segments/{id}/", 404, id=segment["id"])


@pytest.mark.usefixtures("roomy_throttles")
def test_publishing_failures(schema: dict[str, Any], headers: dict[str, str]) -> None:
    # 502 PUBLISHING_FAILED is the documented answer to a platform outage.
    ops = support.operations(support.load(schema, failures=[502]))

    def connect(**fields: Any) -> int:
        body = {"platform": "chirp", "accessToken": "t0ken", "expiresAt": later(1), **fields}
        response = support.check_response(
            ops["POST /api/v1/social/connections/"], headers=headers, body=body
        )
        assert response.status_code == 201, response.content
        pk: int = json.loads(response.content)["id"]
        return pk

    def post(connection: int, content: str, status: int) -> Any:
        response = support.check_response(
            ops["POST /api/v1/social/connections/{id}/posts/"],
            headers=headers,
            body={"content": content},
            path_parameters={"id": connection},
        )
        assert response.status_code == status, response.content
        return response

    current = connect()
    post(current, "Hello", 201)
    post(current, "free money inside", 422)
    post(current, "x" * 281, 422)
    post(connect(expiresAt=later(-1)), "Hello", 409)
    post(connect(simulate="outage"), "Hello", 502)
    limited = post(connect(simulate="rateLimited"), "Hello", 429)
    assert limited.headers["retry-after"] == ["30"]
    for _ in range(4):
        post(current, "Again", 201)
    post(current, "Once too often", 429)


def test_throttled_answers_conform(
    schema: dict[str, Any], headers: dict[str, str], settings: Any
) -> None:
    # The real quotas, tiny: the 429 of the throttles and their headers as documented.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "token": "1/minute",
            "user": "2/hour",
        },
    }
    ops = support.operations(support.load(schema))
    token = ops["POST /api/v1/auth/token/"]
    credentials = {"username": "demo", "password": "demo-password"}
    assert support.check_response(token, headers={}, body=credentials).status_code == 200
    refused = support.check_response(token, headers={}, body=credentials)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"][0]) >= 1
    segments = ops["GET /api/v1/segments/"]
    statuses = [support.check_response(segments, headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]

"""What hostile or careless clients tried against the sandbox, each answered in the envelope.

Look-alike names, a lowercase ``bearer`` scheme, credentials sent to the public schema,
its ``version`` and ``lang`` parameters, writes without their trailing slash, chunked
bodies, the token endpoint's types, expired tokens of users who can no longer sign in,
the social platform's own 429 headers, and a sandbox started without DEBUG on the public
signing key.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from sandbox.social.models import Connection
from tests.fixtures.sandbox_server import ROOT
from tests.sandbox.support import assert_envelope, send

pytestmark = pytest.mark.django_db

SEGMENTS = "/api/v1/segments/"
CAMPAIGNS = "/api/v1/campaigns/"
RULES = {"field": "country", "operator": "eq", "value": "US"}


# Names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "look_alike",
    [
        "us subscribers",  # case
        "ＵＳ ｓｕｂｓｃｒｉｂｅｒｓ",  # fullwidth letters
        "US SUBSCRIBERS",
    ],
)
def test_a_look_alike_segment_name_is_a_duplicate(as_demo, look_alike):
    response = send(as_demo, "POST", SEGMENTS, {"name": look_alike, "rules": RULES})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409, [("name", "DUPLICATE_RESOURCE")])


def test_composed_and_decomposed_names_are_one_name(as_demo):
    assert send(as_demo, "POST", CAMPAIGNS, {"name": "Caf\u00e9"}).status_code == 201
    response = send(as_demo, "POST", CAMPAIGNS, {"name": "Cafe\u0301"})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409, [("name", "DUPLICATE_RESOURCE")])
    response = send(as_demo, "POST", CAMPAIGNS, {"name": "CAF\u00c9"})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409, [("name", "DUPLICATE_RESOURCE")])


def test_renaming_onto_a_look_alike_is_a_duplicate(as_demo, demo):
    segment = Segment.objects.get(owner=demo, name="Young adults")
    response = send(as_demo, "PATCH", f"{SEGMENTS}{segment.pk}/", {"name": "BETA testers"})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409, [("name", "DUPLICATE_RESOURCE")])
    # Its own name in another case is a rename, not a duplicate.
    response = send(as_demo, "PATCH", f"{SEGMENTS}{segment.pk}/", {"name": "YOUNG adults"})
    assert response.status_code == 200, response.content
    segment.refresh_from_db()
    assert (segment.name, segment.name_key) == ("YOUNG adults", "young adults")


@pytest.mark.parametrize(
    "hidden",
    [
        "\u200b",  # zero-width space
        "\u00ad",  # soft hyphen
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\u0007",  # bell
        "\u2028",  # line separator
        "\ue000",  # private use
        "\U000e0041",  # tag letter A
    ],
)
@pytest.mark.parametrize("url", [SEGMENTS, CAMPAIGNS])
def test_invisible_characters_in_names_are_invalid_format(as_demo, hidden, url):
    body: dict[str, Any] = {"name": f"Spring{hidden}sale"}
    if url == SEGMENTS:
        body["rules"] = RULES
    response = send(as_demo, "POST", url, body)
    assert_envelope(response, "INVALID_FORMAT", 422, [("name", "INVALID_FORMAT")])


def test_a_duplicate_key_that_slips_past_the_check_is_caught_by_the_database(as_demo, monkeypatch):
    monkeypatch.setattr(
        "sandbox.segments.serializers.SegmentSerializer.validate_name", lambda self, value: value
    )
    response = send(as_demo, "POST", SEGMENTS, {"name": "beta TESTERS", "rules": RULES})
    assert_envelope(response, "DUPLICATE_RESOURCE", 409)


# Authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_bearer_scheme_is_case_insensitive(seeded, demo, token, anonymous, scheme):
    anonymous.credentials(HTTP_AUTHORIZATION=f"{scheme} {token(demo)}")
    assert anonymous.get(CAMPAIGNS).status_code == 200


def test_another_scheme_is_still_no_credentials(seeded, anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Basic ZGVtbzpkZW1vLXBhc3N3b3Jk")
    response = anonymous.get(CAMPAIGNS)
    assert_envelope(response, "UNAUTHORIZED", 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": 5, "password": "x"}, "username"),
        ({"username": "demo", "password": 5}, "password"),
    ],
)
def test_token_endpoint_takes_text_only(seeded, anonymous, body, field):
    response = send(anonymous, "POST", "/api/v1/auth/token/", body)
    assert_envelope(response, "INVALID_FORMAT", 422, [(field, "INVALID_FORMAT")])


def test_both_not_text_names_both(seeded, anonymous):
    response = send(anonymous, "POST", "/api/v1/auth/token/", {"username": 5, "password": 5})
    assert_envelope(
        response,
        "INVALID_FORMAT",
        422,
        [("username", "INVALID_FORMAT"), ("password", "INVALID_FORMAT")],
    )


@pytest.mark.parametrize("gone", ["deleted", "inactive"])
def test_an_expired_token_of_a_user_who_cannot_sign_in_is_unauthorized(
    demo, token, anonymous, gone
):
    expired = token(demo, expires_in=-60)
    if gone == "deleted":
        demo.delete()
    else:
        demo.is_active = False
        demo.save()
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {expired}")
    response = anonymous.get(CAMPAIGNS)
    assert_envelope(response, "UNAUTHORIZED", 401)
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_an_expired_refresh_token_of_a_deleted_user_is_unauthorized(demo, anonymous):
    from sandbox.accounts.tokens import refresh_token_for

    refresh = refresh_token_for(demo)
    refresh.set_exp(from_time=refresh.current_time, lifetime=timedelta(seconds=-60))
    demo.delete()
    response = send(anonymous, "POST", "/api/v1/auth/token/refresh/", {"refresh": str(refresh)})
    assert_envelope(response, "UNAUTHORIZED", 401)


# The schema --------------------------------------------------------------------------------


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.parametrize(
    "credentials", [b"demo:wrong", b"demo:demo-password", b"de\x00mo:x", b"no-colon"]
)
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_schema_reads_no_credentials(seeded, anonymous, credentials, url):
    # Not a second place to try passwords: whatever is sent, the answer is the public one.
    response = anonymous.get(url, HTTP_AUTHORIZATION=basic(credentials))
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "100"  # counted by address, as anonymous


@pytest.mark.parametrize("version", ["\r\n", "\x00", 'a"b', "\u2028", "x" * 33, ""])
def test_a_schema_version_out_of_form_is_invalid_format(anonymous, version):
    response = anonymous.get("/api/schema/", {"version": version})
    assert_envelope(response, "INVALID_FORMAT", 422, [("version", "INVALID_FORMAT")])
    assert "Content-Disposition" not in response


def test_a_schema_version_in_form_names_the_file(anonymous):
    response = anonymous.get("/api/schema/", {"version": "1.0"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="apierrors sandbox (1.0).yaml"'


def test_a_schema_language_not_offered_is_invalid_format(anonymous):
    response = anonymous.get("/api/schema/", {"lang": "xx\x00"})
    assert_envelope(response, "INVALID_FORMAT", 422, [("lang", "INVALID_FORMAT")])
    assert anonymous.get("/api/schema/", {"lang": "de"}).status_code == 200


# Requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_a_url_without_its_trailing_slash_is_not_found(as_demo, settings, debug, method):
    settings.DEBUG = debug
    body = None if method == "GET" else {"name": "x"}
    response = send(as_demo, method, "/api/v1/campaigns", body)
    assert_envelope(response, "RESOURCE_NOT_FOUND", 404)


def test_a_chunked_body_is_refused_not_dropped(as_demo, demo):
    campaign = Campaign.objects.get(owner=demo, name="Newsletter")
    response = as_demo.patch(
        f"{CAMPAIGNS}{campaign.pk}/",
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert_envelope(response, "VALIDATION_ERROR", 400)
    assert "Content-Length" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        (f"{SEGMENTS}validate/", ["rules"]),
        ("/api/v1/social/connections/{id}/posts/", ["content"]),
    ],
)
def test_options_describe_the_body_of_the_action(as_demo, demo, url, fields):
    connection = Connection.objects.filter(owner=demo).first()
    assert connection is not None
    response = as_demo.options(url.format(id=connection.pk))
    assert response.status_code == 200
    post = response.json()["actions"]["POST"]
    assert sorted(name for name, spec in post.items() if not spec["read_only"]) == fields


def test_the_platforms_429_describes_the_platforms_limit(as_demo, demo):
    connection = Connection.objects.create(
        owner=demo,
        platform="chirp",
        access_token="t",
        expires_at=timezone.now() + timedelta(hours=1),
        simulate=Connection.RATE_LIMITED,
    )
    response = send(
        as_demo, "POST", f"/api/v1/social/connections/{connection.pk}/posts/", {"content": "hi"}
    )
    assert_envelope(response, "RATE_LIMIT_EXCEEDED", 429)
    assert response["Retry-After"] == "30"
    assert response["X-RateLimit-Limit"] == "5"
    assert response["X-RateLimit-Remaining"] == "0"
    reset = int(response["X-RateLimit-Reset"]) - int(timezone.now().timestamp())
    assert 28 <= reset <= 31


# Settings ----------------------------------------------------------------------------------


def import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SANDBOX_")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import sandbox.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_debug_the_public_signing_key_is_refused():
    refused = import_settings(SANDBOX_DEBUG="0")
    assert refused.returncode != 0
    assert "SANDBOX_SECRET_KEY" in refused.stderr
    assert import_settings(SANDBOX_DEBUG="0", SANDBOX_SECRET_KEY="k" * 50).returncode == 0
    assert import_settings(SANDBOX_DEBUG="1").returncode == 0


def test_credentials_holding_nul_are_refused_and_counted(seeded, anonymous):
    # Refused by the field, on every database, after the token throttle counted them.
    remaining = []
    for _ in range(2):
        response = send(
            anonymous, "POST", "/api/v1/auth/token/", {"username": "de\x00mo", "password": "x"}
        )
        assert_envelope(response, "INVALID_FORMAT", 422, [("username", "INVALID_FORMAT")])
        remaining.append(int(response["X-RateLimit-Remaining"]))
    assert remaining == [9, 8]

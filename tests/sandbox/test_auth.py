"""Tokens and scopes end to end: the token endpoints, and real JWTs on protected routes."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from sandbox.accounts import scopes
from tests.sandbox.support import assert_envelope, send

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
CAMPAIGNS = "/api/v1/campaigns/"


def claims(raw: str) -> dict[str, Any]:
    return jwt.decode(raw, settings.SECRET_KEY, algorithms=["HS256"])


def bearer(raw: str) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# The token endpoint --------------------------------------------------------------------------


def test_token_pair_carries_the_users_scopes(seeded, anonymous):
    response = send(anonymous, "POST", TOKEN_URL, {"username": "demo", "password": "demo-password"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert claims(body["access"])["scope"] == " ".join(scopes.ALL)
    assert claims(body["access"])["token_type"] == "access"

    response = send(
        anonymous, "POST", TOKEN_URL, {"username": "viewer", "password": "viewer-password"}
    )
    assert claims(response.json()["access"])["scope"] == "campaigns:read segments:read"


def test_token_from_the_endpoint_opens_the_api(seeded, anonymous):
    pair = send(
        anonymous, "POST", TOKEN_URL, {"username": "demo", "password": "demo-password"}
    ).json()
    response = bearer(pair["access"]).get(CAMPAIGNS)
    assert response.status_code == 200
    assert response.json()["count"] == 4


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "demo", "password": "wrong"},
        {"username": "nobody", "password": "demo-password"},
    ],
)
def test_wrong_credentials_are_unauthorized(seeded, anonymous, credentials):
    response = send(anonymous, "POST", TOKEN_URL, credentials)
    assert_envelope(response, "UNAUTHORIZED", 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_inactive_user_gets_no_token(demo, anonymous):
    demo.is_active = False
    demo.save()
    response = send(anonymous, "POST", TOKEN_URL, {"username": "demo", "password": "demo-password"})
    assert_envelope(response, "UNAUTHORIZED", 401)


def test_token_body_is_validated(seeded, anonymous):
    response = send(anonymous, "POST", TOKEN_URL, {"username": "demo"})
    assert_envelope(response, "MISSING_FIELD", 422, [("password", "MISSING_FIELD")])

    response = send(
        anonymous,
        "POST",
        TOKEN_URL,
        {"username": "demo", "password": "demo-password", "scope": "admin"},
    )
    assert_envelope(response, "INVALID_FIELD", 422, [("scope", "INVALID_FIELD")])

    response = send(anonymous, "POST", TOKEN_URL, '{"username": ')
    assert_envelope(response, "VALIDATION_ERROR", 400)


def test_refresh_gives_an_access_token_with_the_same_scope(seeded, anonymous):
    pair = send(
        anonymous, "POST", TOKEN_URL, {"username": "viewer", "password": "viewer-password"}
    ).json()
    response = send(anonymous, "POST", REFRESH_URL, {"refresh": pair["refresh"]})
    assert response.status_code == 200
    assert claims(response.json()["access"])["scope"] == "campaigns:read segments:read"


def test_expired_refresh_token_is_token_expired(demo, anonymous):
    refresh = RefreshToken.for_user(demo)
    refresh.set_exp(lifetime=timedelta(seconds=-5))
    response = send(anonymous, "POST", REFRESH_URL, {"refresh": str(refresh)})
    assert_envelope(response, "TOKEN_EXPIRED", 401)
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize("kind", ["garbage", "access_token", "wrong_signature", "expired_access"])
def test_bad_refresh_token_is_unauthorized(demo, anonymous, token, kind):
    raw = {
        "garbage": "not-a-jwt",
        "access_token": token(demo),
        "wrong_signature": jwt.encode(
            RefreshToken.for_user(demo).payload, "another-key-0123456789abcdef0123456789"
        ),
        # An expired token of the wrong type is not "expired": refreshing with it never works.
        "expired_access": token(demo, expires_in=-5),
    }[kind]
    response = send(anonymous, "POST", REFRESH_URL, {"refresh": raw})
    assert_envelope(response, "UNAUTHORIZED", 401)
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_refresh_token_of_a_deleted_user_is_unauthorized(other, anonymous):
    refresh = str(RefreshToken.for_user(other))
    other.delete()
    response = send(anonymous, "POST", REFRESH_URL, {"refresh": refresh})
    assert_envelope(response, "UNAUTHORIZED", 401)


def test_refresh_body_is_validated(anonymous):
    response = send(anonymous, "POST", REFRESH_URL, {})
    assert_envelope(response, "MISSING_FIELD", 422, [("refresh", "MISSING_FIELD")])


# Tokens on protected routes ------------------------------------------------------------------


def test_no_token_is_unauthorized(anonymous):
    response = anonymous.get(CAMPAIGNS)
    assert_envelope(response, "UNAUTHORIZED", 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_expired_token_is_token_expired(demo, token):
    response = bearer(token(demo, expires_in=-1)).get(CAMPAIGNS)
    error = assert_envelope(response, "TOKEN_EXPIRED", 401)
    assert error["message"] == "The access token has expired."
    assert response["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="The access token expired"'
    )


def expired_payload(user: Any) -> dict[str, Any]:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-60))
    token["scope"] = " ".join(scopes.ALL)
    return dict(token.payload)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda p: jwt.encode(p, "another-key-0123456789abcdef0123456789"), id="wrong-key"
        ),
        pytest.param(lambda p: jwt.encode(p, "", algorithm="none"), id="alg-none"),
        pytest.param(
            lambda p: jwt.encode(p, settings.SECRET_KEY, algorithm="HS512"),
            id="other-alg",
            marks=pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
        ),
        pytest.param(
            lambda p: jwt.encode({**p, "token_type": "refresh"}, settings.SECRET_KEY),
            id="wrong-type",
        ),
        pytest.param(
            lambda p: jwt.encode({k: v for k, v in p.items() if k != "jti"}, settings.SECRET_KEY),
            id="no-jti",
        ),
        pytest.param(
            lambda p: jwt.encode(p, settings.SECRET_KEY)[:-4] + "AAAA", id="tampered-signature"
        ),
    ],
)
def test_expired_but_forged_token_is_never_merely_expired(demo, forge):
    response = bearer(forge(expired_payload(demo))).get(CAMPAIGNS)
    error = assert_envelope(response, "UNAUTHORIZED", 401)
    assert error["message"] == "The access token is not valid."
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer not.a.jwt",
        "Bearer " + "A" * 5000,
        "Bearer \u00e9t\u00e9",
        "Bearer \u2713",
    ],
)
def test_malformed_authorization_is_unauthorized(seeded, header):
    client = APIClient(raise_request_exception=False)
    response = client.get(CAMPAIGNS, HTTP_AUTHORIZATION=header)
    assert_envelope(response, "UNAUTHORIZED", 401)
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_token_of_a_deleted_user_is_unauthorized(other, token):
    raw = token(other)
    other.delete()
    assert_envelope(bearer(raw).get(CAMPAIGNS), "UNAUTHORIZED", 401)


def test_other_authorization_schemes_are_not_credentials(seeded):
    client = APIClient(raise_request_exception=False)
    response = client.get(CAMPAIGNS, HTTP_AUTHORIZATION="Basic ZGVtbzpkZW1vLXBhc3N3b3Jk")
    assert_envelope(response, "UNAUTHORIZED", 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_missing_scope_is_invalid_scope(viewer, client_for):
    response = send(client_for(viewer), "POST", CAMPAIGNS, {"name": "Mine"})
    error = assert_envelope(response, "INVALID_SCOPE", 403)
    assert "campaigns:write" in error["message"]
    assert response["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="campaigns:write"'
    )


def test_viewer_reads_what_demo_wrote(as_viewer):
    assert as_viewer.get(CAMPAIGNS).json()["count"] == 4
    assert as_viewer.get("/api/v1/segments/").json()["count"] == 3
    response = as_viewer.get("/api/v1/social/connections/")
    assert_envelope(response, "INVALID_SCOPE", 403)
    assert response["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="social:publish"'
    )


def test_token_without_scopes_reads_nothing(demo, client_for):
    response = client_for(demo, scopes=[]).get(CAMPAIGNS)
    assert_envelope(response, "INVALID_SCOPE", 403)


# Commands -----------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_issue_token_prints_a_working_token(seeded):
    raw = run("issue_token", "demo")
    assert claims(raw)["scope"] == " ".join(scopes.ALL)
    assert bearer(raw).get(CAMPAIGNS).status_code == 200


def test_issue_token_with_scopes_and_expiry(seeded):
    raw = run("issue_token", "demo", "--scopes", "campaigns:read", "--expires-in", "120")
    payload = claims(raw)
    assert payload["scope"] == "campaigns:read"
    lifetime = payload["exp"] - datetime.now(timezone.utc).timestamp()
    assert 100 < lifetime <= 121
    assert_envelope(bearer(raw).get("/api/v1/segments/"), "INVALID_SCOPE", 403)


def test_issue_token_negative_expiry_is_already_expired(seeded):
    raw = run("issue_token", "viewer", "--expires-in", "-60")
    assert_envelope(bearer(raw).get(CAMPAIGNS), "TOKEN_EXPIRED", 401)


def test_issue_token_without_scopes(seeded):
    raw = run("issue_token", "demo", "--scopes")
    assert claims(raw)["scope"] == ""


def test_issue_token_refuses_unknown_users_and_scopes(seeded):
    with pytest.raises(CommandError, match="No user"):
        run("issue_token", "nobody")
    with pytest.raises(CommandError, match="Unknown scopes: admin"):
        run("issue_token", "demo", "--scopes", "admin")


def test_seed_demo_is_idempotent(seeded, demo):
    from sandbox.campaigns.models import Campaign
    from sandbox.segments.models import Segment
    from sandbox.social.models import Connection

    demo.set_password("changed")
    demo.save()
    counts = (Segment.objects.count(), Campaign.objects.count(), Connection.objects.count())
    run("seed_demo")
    run("seed_demo")
    assert (Segment.objects.count(), Campaign.objects.count(), Connection.objects.count()) == counts
    demo.refresh_from_db()
    assert demo.check_password("demo-password")

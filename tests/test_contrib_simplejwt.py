"""apierrors.contrib.simplejwt: expired tokens are TOKEN_EXPIRED, every other fault UNAUTHORIZED."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from apierrors.contrib.simplejwt import (
    EXPIRED_TOKEN_CHALLENGE,
    INVALID_TOKEN_CHALLENGE,
    JWTAuthentication,
    expired_only,
)

pytestmark = pytest.mark.django_db

OTHER_KEY = "another-signing-key-0123456789abcdef0123"
factory = APIRequestFactory()


class ProtectedView(APIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.username})


def get(header: str | None) -> Any:
    extra: dict[str, Any] = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = ProtectedView.as_view()(factory.get("/", **extra))
    response.render()
    return response


@pytest.fixture
def user() -> Any:
    return get_user_model().objects.create_user("ada", password="x")


def access(user: Any, seconds: int = 300) -> AccessToken:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=seconds))
    return token


def test_valid_token_authenticates(user):
    response = get(f"Bearer {access(user)}")
    assert response.status_code == 200
    assert response.data == {"user": "ada"}


def test_expired_token_is_token_expired(user):
    response = get(f"Bearer {access(user, -10)}")
    assert response.status_code == 401
    assert response.data["error"]["code"] == "TOKEN_EXPIRED"
    assert response["WWW-Authenticate"] == EXPIRED_TOKEN_CHALLENGE
    assert EXPIRED_TOKEN_CHALLENGE == (
        'Bearer error="invalid_token", error_description="The access token expired"'
    )


def unauthorized(response: Any) -> None:
    assert response.status_code == 401
    assert response.data["error"]["code"] == "UNAUTHORIZED"
    assert response.data["error"]["message"] == "The access token is not valid."
    assert response["WWW-Authenticate"] == INVALID_TOKEN_CHALLENGE


def expired_claims(user: Any) -> dict[str, Any]:
    return dict(access(user, -60).payload)


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda c: jwt.encode(c, OTHER_KEY), id="wrong-key"),
        pytest.param(lambda c: jwt.encode(c, "", algorithm="none"), id="alg-none"),
        pytest.param(
            lambda c: jwt.encode({**c, "token_type": "refresh"}, settings.SECRET_KEY),
            id="refresh-type",
        ),
        pytest.param(lambda c: jwt.encode({**c, "exp": "soon"}, settings.SECRET_KEY), id="bad-exp"),
        pytest.param(
            lambda c: jwt.encode(
                {k: v for k, v in c.items() if k != "token_type"}, settings.SECRET_KEY
            ),
            id="no-type",
        ),
        pytest.param(
            lambda c: jwt.encode({k: v for k, v in c.items() if k != "jti"}, settings.SECRET_KEY),
            id="no-jti",
        ),
    ],
)
def test_an_expired_token_with_another_fault_is_unauthorized(user, encode):
    unauthorized(get(f"Bearer {encode(expired_claims(user))}"))


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer x.y.z", "Bearer \u2713", "Bearer " + "e" * 10000],
)
def test_malformed_credentials_are_unauthorized(user, header):
    unauthorized(get(header))


def test_valid_signature_but_unknown_user_is_unauthorized(user):
    raw = str(access(user))
    user.delete()
    unauthorized(get(f"Bearer {raw}"))


def test_inactive_user_is_unauthorized(user):
    user.is_active = False
    user.save()
    unauthorized(get(f"Bearer {access(user)}"))


def test_no_credentials_is_left_to_drf(user):
    response = get(None)
    assert response.status_code == 401
    assert response.data["error"]["code"] == "UNAUTHORIZED"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_unexpired_token_of_the_wrong_type_is_unauthorized(user):
    unauthorized(get(f"Bearer {RefreshToken.for_user(user)}"))


# expired_only on its own, with token classes of their own backends ---------------------------


def backend_class(**options: Any) -> type[Token]:
    backend = TokenBackend("HS256", settings.SECRET_KEY, **options)

    class Custom(AccessToken):
        def get_token_backend(self) -> TokenBackend:
            return backend

    return Custom


def raw_token(payload: dict[str, Any], key: str = settings.SECRET_KEY) -> str:
    return jwt.encode(payload, key)


def test_expired_only_checks_audience_and_issuer(user):
    strict = backend_class(audience="sandbox", issuer="https://issuer.example")
    claims = {**expired_claims(user), "aud": "sandbox", "iss": "https://issuer.example"}
    assert expired_only(raw_token(claims), [strict])
    assert not expired_only(raw_token({**claims, "aud": "elsewhere"}), [strict])
    assert not expired_only(raw_token({**claims, "iss": "https://evil.example"}), [strict])
    assert not expired_only(raw_token({**claims, "aud": "sandbox"}, OTHER_KEY), [strict])


def test_expired_only_honours_leeway(user):
    lenient = backend_class(leeway=120)
    claims = expired_claims(user)
    # Expired a minute ago but within the leeway: valid, so not "expired".
    # simplejwt annotates the encoded token as a Token; it is the str.
    assert lenient(raw_token(claims))["user_id"] == str(user.pk)  # type: ignore[arg-type]
    assert not expired_only(raw_token(claims), [lenient])
    claims["exp"] -= 600
    assert expired_only(raw_token(claims), [lenient])


def test_expired_only_is_false_for_valid_and_garbage_tokens(user):
    assert not expired_only(str(access(user)), [AccessToken])
    assert not expired_only("garbage", [AccessToken])
    assert not expired_only(b"\xff\xfe", [AccessToken])
    assert not expired_only(str(access(user, -5)), [])


def test_expired_only_runs_the_token_class_checks(user):
    class Picky(AccessToken):
        def verify(self) -> None:
            super().verify()
            if self.payload.get("tenant") != "acme":
                raise TokenError("wrong tenant")

    claims = expired_claims(user)
    assert expired_only(raw_token({**claims, "tenant": "acme"}), [Picky])
    assert not expired_only(raw_token({**claims, "tenant": "other"}), [Picky])

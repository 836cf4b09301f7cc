"""djangorestframework-simplejwt, answered in the envelope.

simplejwt reports every token failure as one ``InvalidToken`` whose detail is a nested
dict, and it does not chain the ``ExpiredTokenError`` behind an expired token, so a client
cannot tell "refresh your token" from "this token is no good". The classes here tell them
apart:

- ``JWTAuthentication`` reads the ``Authorization`` scheme case-insensitively (RFC 9110)
  and answers an access token whose only fault is its expiry with 401
  TOKEN_EXPIRED and ``WWW-Authenticate: Bearer error="invalid_token",
  error_description="The access token expired"``; every other failure (bad signature,
  ``alg: none``, wrong token type, unknown user, malformed header) with 401 UNAUTHORIZED,
  one plain message and ``WWW-Authenticate: Bearer error="invalid_token"``.
- ``apierrors.contrib.simplejwt_views`` holds the token endpoints, answered the same way.

"Only fault is its expiry" means: the signature verifies with the configured algorithm
and key, every other check of the token class (audience, issuer, type, ``jti``, the
blacklist, a subclass's own ``verify``) passes, and its user exists and may sign in. A
token that fails any of them is never reported as merely expired. Use them in settings::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["apierrors.contrib.simplejwt.JWTAuthentication"],
    }

DRF imports the authentication classes of its settings while ``rest_framework.views`` is
itself being imported, so this module imports no views; they live in ``simplejwt_views``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import (
    ExpiredTokenError,
    TokenBackendError,
    TokenError,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from apierrors.exceptions import TokenExpired, Unauthorized

# What reading a signed token's claims can raise besides simplejwt's own TokenError, and
# what looking its user up can raise.
TOKEN_FAILURES = (TokenError, OverflowError, ValueError, TypeError)
USER_LOOKUP_FAILURES = (OverflowError, ValueError, TypeError, DatabaseError)

INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'
EXPIRED_TOKEN_CHALLENGE = (
    'Bearer error="invalid_token", error_description="The access token expired"'
)


def validate(
    raw_token: bytes | str, token_classes: Iterable[type[Token]]
) -> tuple[Token | None, list[type[Token]]]:
    """The token of the first class that accepts ``raw_token``, and the classes before it
    that refused it as expired (all the expired ones when none accepts it)."""
    expired: list[type[Token]] = []
    for token_class in token_classes:
        try:
            return token_class(raw_token), expired  # type: ignore[arg-type]
        except ExpiredTokenError:
            expired.append(token_class)
        except TOKEN_FAILURES:
            # A signed token can still carry claims simplejwt cannot read: an ``exp`` of
            # 10**400 overflows its datetime conversion.
            continue
    return None, expired


def expired_only(raw_token: bytes | str, token_classes: Iterable[type[Token]]) -> bool:
    """Whether ``raw_token`` is a token of one of ``token_classes`` that has only expired.

    For each class whose own validation fails with ``ExpiredTokenError``, the token is
    decoded again with the signature, algorithm, audience and issuer checked and the
    expiry not, and the class's ``verify()`` runs as of one second before ``exp``.
    """
    _token, expired = validate(raw_token, token_classes)
    return any(_valid_apart_from_expiry(raw_token, token_class) for token_class in expired)


def _valid_apart_from_expiry(raw_token: bytes | str, token_class: type[Token]) -> bool:
    try:
        # Unverified decode: only to reach the class's backend and run its verify() below.
        token = token_class(raw_token, verify=False)  # type: ignore[arg-type]
        backend = token.get_token_backend()
        payload = jwt.decode(
            raw_token,
            backend.get_verifying_key(raw_token),  # type: ignore[arg-type]
            algorithms=[backend.algorithm],
            audience=backend.audience,
            issuer=backend.issuer,
            leeway=backend.get_leeway(),
            options={"verify_exp": False, "verify_aud": backend.audience is not None},
        )
        exp = payload["exp"]
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return False
        # verify() is simplejwt's hook for every check after decoding, the expiry among
        # them; as of a moment the token was still valid, all the others still apply.
        token.current_time = datetime.fromtimestamp(exp, tz=timezone.utc) - timedelta(seconds=1)
        token.verify()
    except (
        TokenError,
        TokenBackendError,
        jwt.PyJWTError,
        KeyError,
        ValueError,
        OverflowError,
        OSError,
    ):
        return False
    return True


def user_may_authenticate(raw_token: bytes | str, token_class: type[Token]) -> bool:
    """Whether the user a token (read without verifying it) names exists and may sign in.

    An expired token of a deleted or inactive user is answered UNAUTHORIZED, as the same
    token would be before its expiry: "expired" tells a client that refreshing would help.
    """
    try:
        token = token_class(raw_token, verify=False)  # type: ignore[arg-type]
        user_id = token.get(api_settings.USER_ID_CLAIM)
        if user_id is None:
            return False
        model = get_user_model()
        user = model._default_manager.get(**{api_settings.USER_ID_FIELD: user_id})
    except (TokenError, ObjectDoesNotExist, *USER_LOOKUP_FAILURES):
        return False
    return bool(api_settings.USER_AUTHENTICATION_RULE(user))


def invalid_token(message: Any = None) -> Unauthorized:
    """401 UNAUTHORIZED for a token (or header) that is not valid."""
    return Unauthorized(
        message if message is not None else JWTAuthentication.invalid_message,
        headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
    )


def token_expired(message: Any = None) -> TokenExpired:
    """401 TOKEN_EXPIRED for a token whose only fault is its expiry."""
    return TokenExpired(message, headers={"WWW-Authenticate": EXPIRED_TOKEN_CHALLENGE})


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's ``JWTAuthentication`` with failures answered as TOKEN_EXPIRED / UNAUTHORIZED.

    Override ``invalid_message`` for the sentence of every non-expiry failure, or
    ``token_classes`` to validate against other classes than ``AUTH_TOKEN_CLASSES``.
    """

    invalid_message = _("The access token is not valid.")

    def token_classes(self) -> list[type[Token]]:
        return list(api_settings.AUTH_TOKEN_CLASSES)

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        try:
            return super().authenticate(request)
        except drf.AuthenticationFailed:
            # simplejwt's own failures (malformed header, unknown or inactive user) carry
            # dict details that say nothing a client can act on.
            raise invalid_token(self.invalid_message) from None

    def get_raw_token(self, header: bytes) -> bytes | None:
        # The scheme is case-insensitive (RFC 9110, section 11.1); simplejwt compares it as
        # configured, so "bearer <token>" would read as no credentials at all.
        parts = header.split()
        if parts:
            for scheme in authentication.AUTH_HEADER_TYPE_BYTES:
                if parts[0].lower() == scheme.lower():
                    header = b" ".join([scheme, *parts[1:]])
                    break
        return super().get_raw_token(header)

    def get_header(self, request: Request) -> bytes:
        try:
            return super().get_header(request)
        except UnicodeEncodeError:
            # A header that is not Latin-1 cannot hold a token.
            raise invalid_token(self.invalid_message) from None

    def get_validated_token(self, raw_token: bytes) -> Token:
        token, expired = validate(raw_token, self.token_classes())
        if token is not None:
            return token
        if any(
            _valid_apart_from_expiry(raw_token, token_class)
            and user_may_authenticate(raw_token, token_class)
            for token_class in expired
        ):
            raise token_expired()
        raise invalid_token(self.invalid_message)

    def get_user(self, validated_token: Token) -> Any:
        try:
            return super().get_user(validated_token)
        except USER_LOOKUP_FAILURES:
            # simplejwt hands the user id claim to the ORM as it is: a list, an object, a
            # string that is not a number or holds a NUL cannot name a user.
            raise invalid_token(self.invalid_message) from None


try:
    from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
except ImportError:  # drf-spectacular is optional
    pass
else:

    class JWTAuthenticationScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
        """Documents ``JWTAuthentication`` (and subclasses) as drf-spectacular's ``jwtAuth``."""

        target_class = "apierrors.contrib.simplejwt.JWTAuthentication"
        match_subclasses = True

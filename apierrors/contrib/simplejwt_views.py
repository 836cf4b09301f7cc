"""simplejwt's token endpoints, answered in the envelope.

- ``TokenObtainPairView`` answers wrong credentials with 401 UNAUTHORIZED (and the
  ``WWW-Authenticate`` challenge of the endpoint).
- ``TokenRefreshView`` answers a refresh token whose only fault is its expiry with 401
  TOKEN_EXPIRED, any other bad one (or one whose user is gone or inactive, expired or not) with 401
  UNAUTHORIZED.

Route them in place of simplejwt's own::

    path("api/token/", TokenObtainPairView.as_view()),
    path("api/token/refresh/", TokenRefreshView.as_view()),

Subclass them to set ``serializer_class`` or the messages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt import views
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError

from apierrors.contrib.simplejwt import (
    expired_only,
    invalid_token,
    token_expired,
    user_may_authenticate,
)
from apierrors.exceptions import TokenExpired, Unauthorized


class TokenObtainPairView(views.TokenObtainPairView):
    """simplejwt's token endpoint: wrong credentials are 401 UNAUTHORIZED in the envelope."""

    credentials_message = _("No active account matches these credentials.")

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except drf.AuthenticationFailed:
            raise Unauthorized(
                self.credentials_message,
                headers={"WWW-Authenticate": self.get_authenticate_header(request)},
            ) from None
        return Response(serializer.validated_data)


class TokenRefreshView(views.TokenRefreshView):
    """simplejwt's refresh endpoint: an expired refresh token is 401 TOKEN_EXPIRED,
    any other bad one (or one whose user is gone) 401 UNAUTHORIZED."""

    invalid_message = _("The refresh token is not valid.")
    expired_message = _("The refresh token has expired; obtain a new token pair.")

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except ExpiredTokenError:
            raise self.expired_error(serializer) from None
        except (TokenError, InvalidToken, drf.AuthenticationFailed, ObjectDoesNotExist):
            raise invalid_token(self.invalid_message) from None
        return Response(serializer.validated_data)

    def expired_error(self, serializer: Any) -> Unauthorized | TokenExpired:
        """TOKEN_EXPIRED when the refresh token's only fault is its expiry, else UNAUTHORIZED."""
        raw = serializer.initial_data.get("refresh")
        token_class = getattr(serializer, "token_class", None)
        if (
            isinstance(raw, str)
            and token_class is not None
            and expired_only(raw, [token_class])
            and user_may_authenticate(raw, token_class)
        ):
            return token_expired(self.expired_message)
        return invalid_token(self.invalid_message)

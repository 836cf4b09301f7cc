from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import Token

from apierrors.serializers import RejectUnknownFieldsMixin
from sandbox.accounts.tokens import refresh_token_for


class ScopedTokenObtainPairSerializer(RejectUnknownFieldsMixin, TokenObtainPairSerializer):
    """A username and password, for a token pair whose access token carries the scope claim."""

    @classmethod
    def get_token(cls, user: Any) -> Token:
        return refresh_token_for(user)


class StrictTokenRefreshSerializer(RejectUnknownFieldsMixin, TokenRefreshSerializer):
    """A refresh token, for an access token with the refresh token's scope."""

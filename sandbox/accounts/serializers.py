from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import Token

from apierrors.serializers import RejectUnknownFieldsMixin
from sandbox.accounts.tokens import refresh_token_for
from sandbox.resources import TextField


class ScopedTokenObtainPairSerializer(RejectUnknownFieldsMixin, TokenObtainPairSerializer):
    """A username and password, for a token pair whose access token carries the scope claim."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # simplejwt's CharFields turn 5 into "5"; a username or password that is not text
        # is INVALID_FORMAT (422), not a wrong password (401).
        self.fields[self.username_field] = TextField(write_only=True)
        self.fields["password"] = TextField(
            write_only=True, trim_whitespace=False, style={"input_type": "password"}
        )

    @classmethod
    def get_token(cls, user: Any) -> Token:
        return refresh_token_for(user)


class StrictTokenRefreshSerializer(RejectUnknownFieldsMixin, TokenRefreshSerializer):
    """A refresh token, for an access token with the refresh token's scope."""

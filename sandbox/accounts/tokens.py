"""Access tokens that carry the user's scopes in a ``scope`` claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from sandbox.accounts.models import Profile

SCOPE_CLAIM = "scope"


def scopes_of(user: Any) -> list[str]:
    """The scopes ``user``'s profile grants (none without a profile)."""
    try:
        profile: Profile = user.profile
    except Profile.DoesNotExist:
        return []
    return profile.scope_list()


def refresh_token_for(user: Any) -> RefreshToken:
    """A refresh token whose access tokens carry ``user``'s scopes."""
    token = RefreshToken.for_user(user)
    token[SCOPE_CLAIM] = " ".join(scopes_of(user))
    return token


def access_token_for(
    user: Any, *, scopes: list[str] | None = None, expires_in: timedelta | None = None
) -> AccessToken:
    """An access token for ``user``: their scopes unless ``scopes`` is given, the configured
    lifetime unless ``expires_in`` is (negative gives a token that has already expired)."""
    token = AccessToken.for_user(user)
    token[SCOPE_CLAIM] = " ".join(scopes_of(user) if scopes is None else scopes)
    if expires_in is not None:
        token.set_exp(from_time=token.current_time, lifetime=expires_in)
    return token

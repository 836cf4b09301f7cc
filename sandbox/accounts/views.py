from __future__ import annotations

from apierrors.contrib import simplejwt_views as simplejwt
from sandbox.accounts.serializers import (
    ScopedTokenObtainPairSerializer,
    StrictTokenRefreshSerializer,
)


class TokenView(simplejwt.TokenObtainPairView):
    """``POST /api/v1/auth/token/``: credentials for a token pair, 10 per minute per address."""

    serializer_class = ScopedTokenObtainPairSerializer


class TokenRefreshView(simplejwt.TokenRefreshView):
    """``POST /api/v1/auth/token/refresh/``: a refresh token for a new access token."""

    serializer_class = StrictTokenRefreshSerializer

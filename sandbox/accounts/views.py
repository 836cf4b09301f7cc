from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apierrors.contrib import simplejwt_views
from apierrors.exceptions import TokenExpired, Unauthorized
from apierrors.openapi import raises
from apierrors.throttling import AnonRateLimitThrottle
from sandbox.accounts.serializers import (
    ScopedTokenObtainPairSerializer,
    StrictTokenRefreshSerializer,
)
from sandbox.throttles import TokenThrottle

TOKEN_PAIR = inline_serializer(
    "TokenPair",
    fields={"access": serializers.CharField(), "refresh": serializers.CharField()},
)


class TokenView(simplejwt_views.TokenObtainPairView):
    """Exchange a username and password for an access token (carrying the user's scopes in
    its scope claim) and a refresh token. Limited to 10 requests per minute per address."""

    serializer_class = ScopedTokenObtainPairSerializer
    throttle_classes = [TokenThrottle]

    @raises(Unauthorized)
    @extend_schema(request=ScopedTokenObtainPairSerializer, responses=TOKEN_PAIR)
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


@raises(Unauthorized, TokenExpired)
class TokenRefreshView(simplejwt_views.TokenRefreshView):
    """Exchange a refresh token for a new access token with the same scopes."""

    serializer_class = StrictTokenRefreshSerializer
    throttle_classes = [AnonRateLimitThrottle]

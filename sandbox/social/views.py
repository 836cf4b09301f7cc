from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from apierrors.exceptions import (
    ConnectionExpired,
    ContentRejected,
    FieldProblem,
    PublishingFailed,
    RateLimitExceeded,
)
from apierrors.openapi import raises
from apierrors.ratelimit.headers import RATE_LIMIT_HEADERS_ATTR
from sandbox.accounts import scopes
from sandbox.resources import OwnedViewSet
from sandbox.social import platform
from sandbox.social.models import Connection
from sandbox.social.serializers import ConnectionSerializer, PostSerializer


def describe_platform_limit(
    request: Request, connection: Connection, limited: platform.RateLimited
) -> None:
    """Make the rate-limit headers of the platform's 429 describe the platform's limit, the
    one that refused, rather than the API's own quota (which has requests left)."""
    limit = limited.limit or platform.PLATFORMS[connection.platform].posts_per_minute
    setattr(
        request._request,
        RATE_LIMIT_HEADERS_ATTR,
        {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(time.time()) + limited.retry_after),
        },
    )


class ConnectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    OwnedViewSet,
):
    """A user's social connections; each user sees only their own."""

    resource_name = "Connection"
    serializer_class = ConnectionSerializer
    required_scopes = [scopes.SOCIAL_PUBLISH]

    def get_serializer_class(self) -> type[Serializer[Any]]:
        # OPTIONS describes get_serializer(): posts reads a post, not a connection.
        return PostSerializer if self.body_action() == "posts" else ConnectionSerializer

    def get_queryset(self) -> QuerySet[Connection]:
        return Connection.objects.filter(owner_id=self.request.user.pk)

    @raises(ConnectionExpired, ContentRejected, PublishingFailed, RateLimitExceeded)
    @extend_schema(request=PostSerializer, responses={201: PostSerializer})
    @action(detail=True, methods=["post"])
    def posts(self, request: Request, pk: str) -> Response:
        """Publish a post through the connection."""
        with transaction.atomic():
            # Locked so that posts on one connection are counted one after the other.
            connection = self.get_object(for_update=True)
            serializer = PostSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            content = serializer.validated_data["content"]
            name = connection.platform
            try:
                post = platform.publish(connection, content, timezone.now())
            except platform.TokenExpired:
                expired_at = connection.expires_at.astimezone(dt.timezone.utc)
                raise ConnectionExpired(
                    f"The {name} token of connection {connection.pk} expired at "
                    f"{expired_at:%Y-%m-%dT%H:%M:%SZ}; reconnect the account."
                ) from None
            except platform.Unavailable:
                raise PublishingFailed(
                    f"{name} did not answer; the post was not published. Try again later."
                ) from None
            except platform.RateLimited as limited:
                describe_platform_limit(request, connection, limited)
                per_minute = (
                    f" to {limited.limit} posts per minute" if limited.limit is not None else ""
                )
                raise RateLimitExceeded(
                    f"{name} limits this connection{per_minute}. Please retry after "
                    f"{limited.retry_after} seconds.",
                    retry_after=limited.retry_after,
                ) from None
            except platform.Rejected as rejected:
                raise ContentRejected(
                    rejected.reason,
                    details=[FieldProblem("content", "CONTENT_REJECTED", rejected.reason)],
                ) from None
        return Response(PostSerializer(post).data, status=status.HTTP_201_CREATED)

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sandbox.resources import StrictSerializer, TextField
from sandbox.social.models import Connection
from sandbox.social.platform import PLATFORMS


class ConnectionSerializer(StrictSerializer):
    """A connection to a simulated platform. accessToken is never shown again; expiresAt
    may be in the past (to see CONNECTION_EXPIRED); simulate (sandbox only) is null,
    "outage" or "rateLimited"."""

    id = serializers.IntegerField(read_only=True)
    platform = serializers.ChoiceField(choices=sorted(PLATFORMS))
    accessToken = TextField(source="access_token", max_length=500, write_only=True)
    expiresAt = serializers.DateTimeField(source="expires_at")
    simulate = serializers.ChoiceField(
        choices=[Connection.OUTAGE, Connection.RATE_LIMITED],
        allow_null=True,
        required=False,
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    def create(self, validated_data: dict[str, Any]) -> Connection:
        return Connection.objects.create(owner=self.context["request"].user, **validated_data)


class PostSerializer(StrictSerializer):
    """A post. The platform checks its own length limit and blocked terms when publishing."""

    id = serializers.IntegerField(read_only=True)
    connectionId = serializers.IntegerField(source="connection_id", read_only=True)
    platform = serializers.CharField(source="connection.platform", read_only=True)
    content = TextField(max_length=10000)
    externalId = serializers.CharField(source="external_id", read_only=True)
    publishedAt = serializers.DateTimeField(source="published_at", read_only=True)

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from apierrors import codes
from sandbox.campaigns.models import Campaign
from sandbox.names import name_key
from sandbox.resources import (
    NameField,
    OwnedRelatedField,
    StrictSerializer,
    TextField,
    duplicate_name,
)
from sandbox.segments.models import Segment

# How far ahead a campaign may be scheduled.
MAX_SCHEDULE_AHEAD = timedelta(days=365)


class CampaignSerializer(StrictSerializer):
    """A campaign. status and sendAt change through the schedule, activate and pause
    actions; segmentId names one of the owner's segments."""

    id = serializers.IntegerField(read_only=True)
    name = NameField(max_length=100)
    subject = TextField(max_length=200, required=False, allow_blank=True)
    body = TextField(max_length=20000, required=False, allow_blank=True)
    segmentId = OwnedRelatedField(
        source="segment", model=Segment, label="Segment", required=False, allow_null=True
    )
    status = serializers.ChoiceField(choices=Campaign.STATUSES, read_only=True)
    sendAt = serializers.DateTimeField(source="send_at", read_only=True, allow_null=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def validate_name(self, value: str) -> str:
        owner = self.context["request"].user
        taken = Campaign.objects.filter(owner=owner, name_key=name_key(value))
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(
                duplicate_name("You already have a campaign with this name.")
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        if (
            instance is not None
            and instance.status == Campaign.SCHEDULED
            and "segment" in attrs
            and attrs["segment"] is None
        ):
            raise serializers.ValidationError(
                {
                    "segmentId": [
                        ErrorDetail(
                            "A scheduled campaign needs a target segment.",
                            code=codes.SEGMENT_REQUIRED.code,
                        )
                    ]
                }
            )
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Campaign:
        # A savepoint: a name taken by a concurrent request fails alone (409), and the
        # surrounding transaction, if any, stays usable.
        with transaction.atomic():
            return Campaign.objects.create(owner=self.context["request"].user, **validated_data)

    def update(self, instance: Campaign, validated_data: dict[str, Any]) -> Campaign:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        # An UPDATE of the fields sent and nothing else: never an INSERT, whatever happened
        # to the row meanwhile (the view holds its lock).
        with transaction.atomic():
            instance.save(update_fields=[*validated_data, "updated_at"])
        return instance


class ScheduleSerializer(StrictSerializer):
    """When to send: a time in the future, at most 365 days ahead."""

    sendAt = serializers.DateTimeField()

    def validate_sendAt(self, value: Any) -> Any:
        now = timezone.now()
        if value <= now:
            raise serializers.ValidationError(
                ErrorDetail("sendAt must be in the future.", code=codes.INVALID_SCHEDULE.code)
            )
        if value > now + MAX_SCHEDULE_AHEAD:
            raise serializers.ValidationError(
                ErrorDetail(
                    "sendAt must be at most 365 days ahead.", code=codes.INVALID_SCHEDULE.code
                )
            )
        return value

from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import serializers

from sandbox.names import name_key
from sandbox.resources import NameField, StrictSerializer, TextField, duplicate_name
from sandbox.segments import rules
from sandbox.segments.models import Segment


class RulesField(serializers.Field[Any, Any, Any, Any]):
    """A rule tree, checked by ``sandbox.segments.rules`` with a detail per problem; its
    schema is ``SegmentRule`` (``sandbox.segments.openapi``)."""

    def to_internal_value(self, data: Any) -> Any:
        detail = rules.error_detail(data)
        if detail is not None:
            raise serializers.ValidationError(detail)
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class SegmentSerializer(StrictSerializer):
    """A segment: a named rule tree over contact fields; names are unique per owner."""

    id = serializers.IntegerField(read_only=True)
    name = NameField(max_length=100)
    description = TextField(max_length=2000, required=False, allow_blank=True)
    rules = RulesField()
    owner = serializers.CharField(source="owner.username", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def validate_name(self, value: str) -> str:
        owner = self.context["request"].user
        taken = Segment.objects.filter(owner=owner, name_key=name_key(value))
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(
                duplicate_name("You already have a segment with this name.")
            )
        return value

    def create(self, validated_data: dict[str, Any]) -> Segment:
        with transaction.atomic():
            return Segment.objects.create(owner=self.context["request"].user, **validated_data)

    def update(self, instance: Segment, validated_data: dict[str, Any]) -> Segment:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        # An UPDATE of the fields sent and nothing else: never an INSERT, whatever happened
        # to the row meanwhile (the view holds its lock).
        with transaction.atomic():
            instance.save(update_fields=[*validated_data, "updated_at"])
        return instance


class RulesCheckSerializer(StrictSerializer):
    """A rule tree to check without saving it."""

    rules = RulesField()


class RulesCheckResultSerializer(serializers.Serializer[Any]):
    valid = serializers.BooleanField()

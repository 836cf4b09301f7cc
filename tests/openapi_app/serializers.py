from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apierrors.serializers import RejectUnknownFieldsMixin
from tests.testapp.models import Thing


class NoteSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(max_length=80)
    body = serializers.CharField(required=False, allow_blank=True)


class StrictNoteSerializer(RejectUnknownFieldsMixin, NoteSerializer):
    pass


@extend_schema_field({"type": "string", "example": "Monthly sales"})
class ReportNameField(serializers.CharField):
    """A text field whose schema brings its own example."""


class ReportSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    name = ReportNameField()


class ThingSerializer(serializers.ModelSerializer[Thing]):
    """A model serializer over a unique field: its UniqueValidator answers 409."""

    class Meta:
        model = Thing
        fields = ["id", "name"]

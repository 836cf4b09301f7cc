from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apierrors.serializers import RejectUnknownFieldsMixin
from tests.testapp.models import Thing


class NoteSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(max_length=80)
    body = serializers.CharField(required=False, allow_blank=True)


class StrictNoteSerializer(RejectUnknownFieldsMixin, NoteSerializer):
    pass


class ReportSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()


class ThingSerializer(serializers.ModelSerializer[Thing]):
    """A model serializer over a unique field: its UniqueValidator answers 409."""

    class Meta:
        model = Thing
        fields = ["id", "name"]

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apierrors.serializers import RejectUnknownFieldsMixin


class NoteSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(max_length=80)
    body = serializers.CharField(required=False, allow_blank=True)


class StrictNoteSerializer(RejectUnknownFieldsMixin, NoteSerializer):
    pass


class ReportSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()

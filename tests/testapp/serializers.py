from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apierrors.serializers import RejectUnknownFieldsMixin


class ItemSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=10)
    quantity = serializers.IntegerField(min_value=1)


class ScheduleSerializer(serializers.Serializer[Any]):
    send_at = serializers.DateTimeField()
    time_zone = serializers.CharField(required=False)


class OrderSerializer(serializers.Serializer[Any]):
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=["a", "b"], required=False)
    schedule = ScheduleSerializer(required=False)
    items = ItemSerializer(many=True, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("title") == "forbidden":
            raise serializers.ValidationError("This title is reserved.", code="reserved")
        return attrs


class StrictItemSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    name = serializers.CharField()


class StrictOrderSerializer(RejectUnknownFieldsMixin, serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField()
    item = StrictItemSerializer(required=False)
    items = StrictItemSerializer(many=True, required=False)


class LooseSerializer(serializers.Serializer[Any]):
    title = serializers.CharField()

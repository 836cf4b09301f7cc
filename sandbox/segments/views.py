from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from apierrors.exceptions import (
    DuplicateResource,
    Forbidden,
    InvalidOperator,
    InvalidSegmentRule,
    ResourceConflict,
    UnknownField,
)
from apierrors.openapi import raises
from sandbox.accounts import scopes
from sandbox.campaigns.models import Campaign
from sandbox.resources import OwnedViewSet
from sandbox.segments import rules
from sandbox.segments.models import Segment
from sandbox.segments.serializers import (
    RulesCheckResultSerializer,
    RulesCheckSerializer,
    SegmentSerializer,
)

# What a rule tree can be refused with, beside the generic validation codes.
RULE_ERRORS = (UnknownField, InvalidOperator, InvalidSegmentRule)


@extend_schema_view(create=raises(*RULE_ERRORS, DuplicateResource))
class SegmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    OwnedViewSet,
):
    """Audience segments. Every token with segments:read sees every segment; only a
    segment's owner may change or delete it."""

    resource_name = "Segment"
    serializer_class = SegmentSerializer
    queryset = Segment.objects.select_related("owner")
    required_scopes = {
        "GET": [scopes.SEGMENTS_READ],
        "POST": [scopes.SEGMENTS_WRITE],
        "PATCH": [scopes.SEGMENTS_WRITE],
        "DELETE": [scopes.SEGMENTS_WRITE],
        # A dry run changes nothing, so reading is enough.
        "check_rules": [scopes.SEGMENTS_READ],
    }

    def get_serializer_class(self) -> type[Serializer[Any]]:
        # OPTIONS describes get_serializer(): the dry run reads a rule tree, not a segment.
        if self.body_action() == "check_rules":
            return RulesCheckSerializer
        return SegmentSerializer

    @raises(Forbidden, *RULE_ERRORS, DuplicateResource)
    def partial_update(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            # Locked, so a concurrent delete waits for this change (or this one finds the
            # segment gone, 404) instead of the UPDATE finding no row.
            segment = self.get_object(for_update=True)
            self.check_owner(segment)
            serializer = self.get_serializer(segment, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return Response(serializer.data)

    @raises(Forbidden, ResourceConflict)
    def destroy(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            # Locked so that no campaign can be scheduled onto it between check and delete.
            segment = self.get_object(for_update=True)
            self.check_owner(segment)
            live = list(
                Campaign.objects.filter(segment=segment, status__in=Campaign.LIVE_STATUSES)
                .order_by("id")
                .values_list("id", flat=True)
            )
            if live:
                ids = ", ".join(str(pk) for pk in live)
                raise ResourceConflict(
                    f"Segment {segment.pk} is the target of scheduled or active campaigns "
                    f"({ids}); pause or retarget them first."
                )
            segment.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @raises(*RULE_ERRORS)
    @extend_schema(request=RulesCheckSerializer, responses=RulesCheckResultSerializer)
    @action(detail=False, methods=["post"], url_path="validate")
    def check_rules(self, request: Request) -> Response:
        """Check a rule tree without saving anything."""
        serializer = RulesCheckSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return Response({"valid": True})

    @extend_schema(
        responses=inline_serializer(
            "SegmentFieldCatalogue",
            fields={"fields": serializers.ListField(), "limits": serializers.DictField()},
        )
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def fields(self, request: Request) -> Response:
        """The fields segments can test, their types and operators, and the limits."""
        return Response(rules.catalogue())

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apierrors.exceptions import (
    CampaignAlreadyActive,
    CampaignNotScheduled,
    DuplicateResource,
    Forbidden,
    InvalidField,
    InvalidSchedule,
    ResourceConflict,
    SegmentRequired,
)
from apierrors.openapi import raises
from sandbox.accounts import scopes
from sandbox.campaigns.models import Campaign
from sandbox.campaigns.serializers import CampaignSerializer, ScheduleSerializer
from sandbox.resources import EMPTY_BODY, EmptySerializer, OwnedViewSet
from sandbox.segments.models import Segment
from sandbox.throttles import CampaignWriteThrottle


def ensure_changeable(campaign: Campaign, doing: str) -> None:
    """Active campaigns change only after a pause; completed ones never."""
    if campaign.status == Campaign.ACTIVE:
        raise CampaignAlreadyActive(f"Campaign {campaign.pk} is active; pause it before {doing}.")
    if campaign.status == Campaign.COMPLETED:
        raise ResourceConflict(f"Campaign {campaign.pk} has completed and can no longer change.")


def ensure_segment(campaign: Campaign, doing: str) -> None:
    """A campaign that will send needs a segment; its row is locked until the transaction
    ends, so the segment cannot be deleted meanwhile."""
    if (
        campaign.segment_id is None
        or Segment.objects.select_for_update().filter(pk=campaign.segment_id).first() is None
    ):
        raise SegmentRequired(
            f"Campaign {campaign.pk} has no target segment; set segmentId before {doing} it."
        )


@extend_schema_view(create=raises(DuplicateResource))
class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    OwnedViewSet,
):
    """Email campaigns. Every token with campaigns:read sees every campaign; only a
    campaign's owner may change or delete it."""

    resource_name = "Campaign"
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.select_related("owner")
    required_scopes = {
        "GET": [scopes.CAMPAIGNS_READ],
        "POST": [scopes.CAMPAIGNS_WRITE],
        "PATCH": [scopes.CAMPAIGNS_WRITE],
        "DELETE": [scopes.CAMPAIGNS_WRITE],
    }

    def get_throttles(self) -> list[BaseThrottle]:
        return [*super().get_throttles(), CampaignWriteThrottle()]

    @raises(Forbidden, CampaignAlreadyActive, ResourceConflict, DuplicateResource, SegmentRequired)
    def partial_update(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            campaign = self.get_object(for_update=True)
            self.check_owner(campaign)
            ensure_changeable(campaign, "editing it")
            serializer = self.get_serializer(campaign, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            campaign = serializer.save()
            if campaign.status == Campaign.SCHEDULED:
                ensure_segment(campaign, "scheduling")
        return Response(serializer.data)

    @raises(Forbidden, CampaignAlreadyActive)
    def destroy(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            campaign = self.get_object(for_update=True)
            self.check_owner(campaign)
            if campaign.status == Campaign.ACTIVE:
                raise CampaignAlreadyActive(
                    f"Campaign {campaign.pk} is active; pause it before deleting it."
                )
            campaign.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @raises(Forbidden, CampaignAlreadyActive, ResourceConflict, SegmentRequired, InvalidSchedule)
    @extend_schema(request=ScheduleSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str) -> Response:
        """Schedule (or reschedule) the campaign to send at sendAt, a time in the future."""
        with transaction.atomic():
            campaign = self.get_object(for_update=True)
            self.check_owner(campaign)
            ensure_changeable(campaign, "rescheduling it")
            ensure_segment(campaign, "scheduling")
            serializer = ScheduleSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            campaign.send_at = serializer.validated_data["sendAt"]
            campaign.status = Campaign.SCHEDULED
            campaign.save(update_fields=["send_at", "status", "updated_at"])
        return Response(self.get_serializer(campaign).data)

    @raises(
        Forbidden,
        CampaignAlreadyActive,
        CampaignNotScheduled,
        ResourceConflict,
        SegmentRequired,
        InvalidField,
    )
    @extend_schema(request=EMPTY_BODY, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str) -> Response:
        """Start sending a scheduled (or resume a paused) campaign."""
        with transaction.atomic():
            campaign = self.get_object(for_update=True)
            self.check_owner(campaign)
            if campaign.status == Campaign.ACTIVE:
                raise CampaignAlreadyActive(f"Campaign {campaign.pk} is already active.")
            ensure_changeable(campaign, "activating it")
            ensure_segment(campaign, "activating")
            if campaign.status == Campaign.DRAFT:
                raise CampaignNotScheduled(
                    f"Campaign {campaign.pk} is a draft; schedule it before activating it."
                )
            EmptySerializer(data=request.data).is_valid(raise_exception=True)
            campaign.status = Campaign.ACTIVE
            campaign.save(update_fields=["status", "updated_at"])
        return Response(self.get_serializer(campaign).data)

    @raises(Forbidden, ResourceConflict, InvalidField)
    @extend_schema(request=EMPTY_BODY, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        """Stop sending an active campaign."""
        with transaction.atomic():
            campaign = self.get_object(for_update=True)
            self.check_owner(campaign)
            if campaign.status != Campaign.ACTIVE:
                raise ResourceConflict(
                    f"Only an active campaign can be paused; campaign {campaign.pk} is "
                    f"{campaign.status}."
                )
            EmptySerializer(data=request.data).is_valid(raise_exception=True)
            campaign.status = Campaign.PAUSED
            campaign.save(update_fields=["status", "updated_at"])
        return Response(self.get_serializer(campaign).data)

from __future__ import annotations

from typing import Any, ClassVar

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
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
from sandbox.resources import EMPTY_BODY, MAX_ID, EmptySerializer, OwnedViewSet
from sandbox.segments.models import Segment
from sandbox.throttles import CampaignWriteThrottle

# How often a campaign is looked up again when its segment changed between reading it and
# locking it; past that, the client is asked to retry (409).
LOCK_ATTEMPTS = 3


def ensure_changeable(campaign: Campaign, doing: str) -> None:
    """Active campaigns change only after a pause; completed ones never."""
    if campaign.status == Campaign.ACTIVE:
        raise CampaignAlreadyActive(f"Campaign {campaign.pk} is active; pause it before {doing}.")
    if campaign.status == Campaign.COMPLETED:
        raise ResourceConflict(f"Campaign {campaign.pk} has completed and can no longer change.")


def ensure_segment(campaign: Campaign, doing: str) -> None:
    """A campaign that will send needs a segment (locked by ``locked_campaign``)."""
    if campaign.segment_id is None:
        raise SegmentRequired(
            f"Campaign {campaign.pk} has no target segment; set segmentId before {doing} it."
        )


def lock_segments(ids: set[int]) -> None:
    """Lock the segments of ``ids`` that still exist, in id order, until the transaction
    ends: none of them can be deleted meanwhile, and a campaign may point at them."""
    if ids:
        list(
            Segment.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def segment_in_body(data: object) -> set[int]:
    """The segment id a body names, when it is one a segment could have."""
    value = data.get("segmentId") if isinstance(data, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
        return {value}
    return set()


class ChangedMeanwhile(Exception):
    """The campaign's segment changed between reading the campaign and locking it."""


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

    # What each action reads from the body, for OPTIONS (DRF describes get_serializer()).
    action_serializers: ClassVar[dict[str, type[Serializer[Any]]]] = {
        "schedule": ScheduleSerializer,
        "activate": EmptySerializer,
        "pause": EmptySerializer,
    }

    def get_serializer_class(self) -> type[Serializer[Any]]:
        return self.action_serializers.get(self.body_action() or "", CampaignSerializer)

    def represent(self, campaign: Campaign) -> Any:
        return CampaignSerializer(campaign, context=self.get_serializer_context()).data

    def get_throttles(self) -> list[BaseThrottle]:
        return [*super().get_throttles(), CampaignWriteThrottle()]

    def locked_campaign(self, *, body_segment: bool = False) -> Campaign:
        """The campaign of the URL, checked to be the caller's and locked, after its segment
        (and, with ``body_segment``, the segment the body names) until the transaction ends.

        Segments are locked before campaigns everywhere: deleting a segment locks it and then
        clears the campaigns that target it, so the other order deadlocks. When the
        campaign's segment changed between reading and locking it, the locks are given back
        (a savepoint rolled back) and it is read again.
        """
        for _ in range(LOCK_ATTEMPTS):
            seen = self.get_object()
            self.check_owner(seen)
            wanted = segment_in_body(self.request.data) if body_segment else set()
            if seen.segment_id is not None:
                wanted.add(seen.segment_id)
            try:
                with transaction.atomic():
                    lock_segments(wanted)
                    campaign: Campaign = self.get_object(for_update=True)
                    if campaign.segment_id not in (seen.segment_id, None):
                        raise ChangedMeanwhile
            except ChangedMeanwhile:
                continue
            return campaign
        raise ResourceConflict(
            f"Campaign {seen.pk} is being changed by another request; try again."
        )

    @raises(DuplicateResource)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            # The segment is locked, so it cannot be deleted before the campaign that
            # targets it is committed (or it is gone already, and the body is refused).
            lock_segments(segment_in_body(request.data))
            return super().create(request, *args, **kwargs)

    @raises(Forbidden, CampaignAlreadyActive, ResourceConflict, DuplicateResource, SegmentRequired)
    def partial_update(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            campaign = self.locked_campaign(body_segment=True)
            ensure_changeable(campaign, "editing it")
            serializer = CampaignSerializer(
                campaign, data=request.data, partial=True, context=self.get_serializer_context()
            )
            serializer.is_valid(raise_exception=True)
            campaign = serializer.save()
            if campaign.status == Campaign.SCHEDULED:
                ensure_segment(campaign, "scheduling")
        return Response(serializer.data)

    @raises(Forbidden, CampaignAlreadyActive, ResourceConflict)
    def destroy(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            campaign = self.locked_campaign()
            ensure_changeable(campaign, "deleting it")
            campaign.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @raises(Forbidden, CampaignAlreadyActive, ResourceConflict, SegmentRequired, InvalidSchedule)
    @extend_schema(request=ScheduleSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str) -> Response:
        """Schedule (or reschedule) the campaign to send at sendAt, a time in the future."""
        with transaction.atomic():
            campaign = self.locked_campaign()
            ensure_changeable(campaign, "rescheduling it")
            ensure_segment(campaign, "scheduling")
            serializer = ScheduleSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            campaign.send_at = serializer.validated_data["sendAt"]
            campaign.status = Campaign.SCHEDULED
            campaign.save(update_fields=["send_at", "status", "updated_at"])
        return Response(self.represent(campaign))

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
            campaign = self.locked_campaign()
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
        return Response(self.represent(campaign))

    @raises(Forbidden, ResourceConflict, InvalidField)
    @extend_schema(request=EMPTY_BODY, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        """Stop sending an active campaign."""
        with transaction.atomic():
            campaign = self.locked_campaign()
            if campaign.status != Campaign.ACTIVE:
                raise ResourceConflict(
                    f"Only an active campaign can be paused; campaign {campaign.pk} is "
                    f"{campaign.status}."
                )
            EmptySerializer(data=request.data).is_valid(raise_exception=True)
            campaign.status = Campaign.PAUSED
            campaign.save(update_fields=["status", "updated_at"])
        return Response(self.represent(campaign))

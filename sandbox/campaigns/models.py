from __future__ import annotations

from django.conf import settings
from django.db import models

from sandbox.names import NamedModel
from sandbox.segments.models import Segment


class Campaign(NamedModel):
    """An email sent to a segment: ``draft`` -> ``scheduled`` -> ``active`` -> ``paused`` /
    ``completed``."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    STATUSES = [
        (DRAFT, "Draft"),
        (SCHEDULED, "Scheduled"),
        (ACTIVE, "Active"),
        (PAUSED, "Paused"),
        (COMPLETED, "Completed"),
    ]
    # Campaigns that will send or are sending: their segment must not go away.
    LIVE_STATUSES = (SCHEDULED, ACTIVE)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaigns"
    )
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    segment = models.ForeignKey(
        Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns"
    )
    status = models.CharField(max_length=10, choices=STATUSES, default=DRAFT)
    send_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name_key"], name="campaign_unique_owner_name_key"
            )
        ]

    def __str__(self) -> str:
        return self.name

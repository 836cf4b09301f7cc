from __future__ import annotations

from django.conf import settings
from django.db import models

from sandbox.names import NamedModel


class Segment(NamedModel):
    """An audience: contacts that match ``rules`` (see ``sandbox.segments.rules``)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments"
    )
    description = models.TextField(blank=True, default="")
    rules = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name_key"], name="segment_unique_owner_name_key"
            )
        ]

    def __str__(self) -> str:
        return self.name

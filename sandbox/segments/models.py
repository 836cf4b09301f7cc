from __future__ import annotations

from django.conf import settings
from django.db import models


class Segment(models.Model):
    """An audience: contacts that match ``rules`` (see ``sandbox.segments.rules``)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    rules = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="segment_unique_owner_name")
        ]

    def __str__(self) -> str:
        return self.name

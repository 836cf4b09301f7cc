from __future__ import annotations

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Email campaigns and their lifecycle: draft, scheduled, active, paused, completed."""

    name = "sandbox.campaigns"
    label = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

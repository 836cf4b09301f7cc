from __future__ import annotations

from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    """Audience segments: rule trees over contact fields."""

    name = "sandbox.segments"
    label = "segments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the rule tree's schema with drf-spectacular.
        from sandbox.segments import openapi  # noqa: F401

from __future__ import annotations

from django.apps import AppConfig


class SocialConfig(AppConfig):
    """Publishing to social platforms, simulated inside the sandbox (no network)."""

    name = "sandbox.social"
    label = "social"
    default_auto_field = "django.db.models.BigAutoField"

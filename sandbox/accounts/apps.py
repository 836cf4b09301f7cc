from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users' scopes, the token endpoints and the demo commands."""

    name = "sandbox.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

from __future__ import annotations

from django.conf import settings
from django.db import models

from sandbox.accounts import scopes


class Profile(models.Model):
    """The scopes a user's access tokens carry (space-separated, like the ``scope`` claim)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    scopes = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.scopes})"

    def scope_list(self) -> list[str]:
        """The known scopes granted, in the catalogue's order."""
        granted = set(self.scopes.split())
        return [scope for scope in scopes.ALL if scope in granted]

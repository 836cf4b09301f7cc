from __future__ import annotations

from django.conf import settings
from django.db import models


class Connection(models.Model):
    """A user's account on a social platform, reached with ``access_token`` until
    ``expires_at``. ``simulate`` makes the simulated platform misbehave on purpose."""

    OUTAGE = "outage"
    RATE_LIMITED = "rateLimited"
    SIMULATIONS = [(OUTAGE, "Platform outage"), (RATE_LIMITED, "Platform rate limit")]

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections"
    )
    platform = models.CharField(max_length=20)
    access_token = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    # NULL, not "", is "no simulation": the API shows it as null.
    simulate = models.CharField(max_length=20, choices=SIMULATIONS, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.platform} connection {self.pk}"


class Post(models.Model):
    """Content the platform accepted."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="posts")
    content = models.TextField()
    external_id = models.CharField(max_length=40)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["connection", "published_at"])]

    def __str__(self) -> str:
        return self.external_id

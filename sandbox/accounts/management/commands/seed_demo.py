"""``manage.py seed_demo``: the demo users and a few segments, campaigns and connections.

Idempotent: it runs on every start of the sandbox. Users get their documented password
and scopes back; objects are created when missing and left alone when present.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from sandbox.accounts import scopes
from sandbox.accounts.models import Profile
from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from sandbox.social.models import Connection

USERS = (
    ("demo", "demo-password", scopes.ALL),
    ("viewer", "viewer-password", scopes.READ),
)

SEGMENTS = (
    (
        "US subscribers",
        "Subscribed contacts in the United States.",
        {
            "all": [
                {"field": "country", "operator": "eq", "value": "US"},
                {"field": "isSubscribed", "operator": "eq", "value": True},
            ]
        },
    ),
    (
        "Young adults",
        "Contacts aged 18 to 34.",
        {"all": [{"field": "age", "operator": "between", "value": [18, 34]}]},
    ),
    (
        "Beta testers",
        "Tagged beta, or signed up in the last 30 days and not in the US.",
        {
            "any": [
                {"field": "tags", "operator": "contains", "value": "beta"},
                {
                    "all": [
                        {"field": "signedUpAt", "operator": "withinLastDays", "value": 30},
                        {"not": {"field": "country", "operator": "eq", "value": "US"}},
                    ]
                },
            ]
        },
    ),
)


class Command(BaseCommand):
    help = "Create the demo users (demo, viewer) and sample data; safe to run repeatedly."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            users = {name: self.user(name, password, granted) for name, password, granted in USERS}
            demo = users["demo"]
            segments = {
                name: Segment.objects.get_or_create(
                    owner=demo, name=name, defaults={"description": description, "rules": rules}
                )[0]
                for name, description, rules in SEGMENTS
            }
            now = timezone.now()
            campaigns = (
                ("Spring sale", Campaign.DRAFT, segments["US subscribers"], None),
                ("Newsletter", Campaign.DRAFT, None, None),
                (
                    "Welcome series",
                    Campaign.SCHEDULED,
                    segments["Young adults"],
                    now + timedelta(days=7),
                ),
                ("Summer launch", Campaign.ACTIVE, segments["US subscribers"], now),
            )
            for name, status, segment, send_at in campaigns:
                Campaign.objects.get_or_create(
                    owner=demo,
                    name=name,
                    defaults={
                        "subject": f"{name} at Example Shop",
                        "body": "Hello {{ firstName }}, ...",
                        "status": status,
                        "segment": segment,
                        "send_at": send_at,
                    },
                )
            if not Connection.objects.filter(owner=demo).exists():
                Connection.objects.create(
                    owner=demo,
                    platform="chirp",
                    access_token="demo-chirp-token",
                    expires_at=now + timedelta(days=365),
                )
                Connection.objects.create(
                    owner=demo,
                    platform="linkup",
                    access_token="demo-linkup-token",
                    expires_at=now - timedelta(days=1),
                )
        self.stdout.write(
            "Demo data ready: users demo / demo-password (every scope) and "
            "viewer / viewer-password (read scopes)."
        )

    def user(self, name: str, password: str, granted: tuple[str, ...]) -> Any:
        user, _ = get_user_model()._default_manager.get_or_create(username=name)
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        Profile.objects.update_or_create(user=user, defaults={"scopes": " ".join(granted)})
        return user

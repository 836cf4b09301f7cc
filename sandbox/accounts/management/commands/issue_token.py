"""``manage.py issue_token USER [--scopes ...] [--expires-in SECONDS]``: print an access token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.accounts import scopes
from sandbox.accounts.tokens import access_token_for


class Command(BaseCommand):
    help = (
        "Print an access token for USER. --scopes replaces the user's scopes (give none for "
        "a token without scopes); --expires-in sets its lifetime in seconds, a negative "
        "value giving a token that has already expired."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--scopes", nargs="*", metavar="SCOPE", default=None)
        parser.add_argument("--expires-in", type=int, metavar="SECONDS", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(options["username"])
        except user_model.DoesNotExist:
            raise CommandError(f"No user {options['username']!r}; run seed_demo first.") from None
        granted: list[str] | None = options["scopes"]
        if granted is not None:
            unknown = sorted(set(granted) - set(scopes.ALL))
            if unknown:
                raise CommandError(
                    f"Unknown scopes: {', '.join(unknown)}. Known: {', '.join(scopes.ALL)}."
                )
        seconds = options["expires_in"]
        token = access_token_for(
            user,
            scopes=granted,
            expires_in=timedelta(seconds=seconds) if seconds is not None else None,
        )
        self.stdout.write(str(token))

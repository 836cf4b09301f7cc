"""``manage.py apierrors_catalogue``: write the error catalogue page of the docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apierrors.docs import render_catalogue


class Command(BaseCommand):
    help = (
        "Write the error catalogue page (Markdown for Sphinx/MyST) generated from the "
        "catalogue; --check fails when the file differs instead of writing it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument(
            "--project",
            action="store_true",
            help="Also list the project's own codes (ApiError subclasses the catalogue lacks).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with an error when --output differs from the generated page.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        page = render_catalogue(include_project=options["project"])
        output = options["output"]
        if output is None:
            if options["check"]:
                raise CommandError("--check needs --output.")
            self.stdout.write(page, ending="")
            return
        path = Path(output)
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != page:
                raise CommandError(
                    f"{path} is out of date; run: manage.py apierrors_catalogue --output {path}"
                )
            return
        path.write_text(page, encoding="utf-8")

"""``manage.py apierrors_catalogue``: write the error catalogue page and the README's table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apierrors.docs import render_catalogue, with_readme_table


class Command(BaseCommand):
    help = (
        "Write the error catalogue page (Markdown for Sphinx/MyST) generated from the "
        "catalogue, and/or the table of codes in a README; --check fails when a file "
        "differs instead of writing it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument(
            "--readme",
            help="A README whose table under '## The catalogue' is generated anew.",
        )
        parser.add_argument(
            "--project",
            action="store_true",
            help="Also list the project's own codes (ApiError subclasses the catalogue lacks).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit with an error when --output or --readme differs from what is generated.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        page = render_catalogue(include_project=options["project"])
        targets: list[tuple[str, str, Callable[[str], str]]] = []
        if options["output"] is not None:
            targets.append(("--output", options["output"], lambda current: page))
        if options["readme"] is not None:
            targets.append(("--readme", options["readme"], with_readme_table))
        if not targets:
            if options["check"]:
                raise CommandError("--check needs --output or --readme.")
            self.stdout.write(page, ending="")
            return
        for option, output, generate in targets:
            self.write(Path(output), option, generate, check=options["check"])

    def write(
        self, path: Path, option: str, generate: Callable[[str], str], *, check: bool
    ) -> None:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        try:
            wanted = generate(current)
        except ValueError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        if not check:
            path.write_text(wanted, encoding="utf-8")
        elif current != wanted:
            raise CommandError(
                f"{path} is out of date; run: manage.py apierrors_catalogue {option} {path}"
            )

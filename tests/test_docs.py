"""The generated catalogue page matches the code, and docUrl lands on its anchors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from rest_framework.test import APIClient

from apierrors import codes, envelope
from apierrors.docs import (
    EXAMPLE_REQUEST_ID,
    example_body,
    example_error,
    render_catalogue,
    render_readme_table,
    with_readme_table,
)
from apierrors.envelope import anchor
from apierrors.exceptions import MissingField, class_for_code
from tests.openapi_app.exceptions import QuotaExhausted

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CATALOGUE = DOCS / "catalogue.md"
README = ROOT / "README.md"
REGENERATE = "python manage.py apierrors_catalogue --output docs/catalogue.md --readme README.md"


def test_committed_catalogue_page_matches_the_code() -> None:
    assert CATALOGUE.read_text(encoding="utf-8") == render_catalogue(), (
        f"docs/catalogue.md is out of date; run: {REGENERATE}"
    )


def test_page_has_one_anchored_entry_per_code() -> None:
    page = CATALOGUE.read_text(encoding="utf-8")
    labels = re.findall(r"^\(([a-z0-9-]+)\)=$", page, flags=re.MULTILINE)
    assert labels == [anchor(code) for code in codes.CATALOGUE]
    for code, entry in codes.CATALOGUE.items():
        assert f"({anchor(code)})=\n### `{code}`\n" in page
        assert f"- **Status:** {entry.status}\n" in page


def test_page_examples_are_the_bodies_the_api_answers() -> None:
    page = CATALOGUE.read_text(encoding="utf-8")
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", page, flags=re.DOTALL)]
    assert [block["error"]["code"] for block in blocks] == list(codes.CATALOGUE)
    for block in blocks:
        code = block["error"]["code"]
        assert block == example_body(example_error(class_for_code(code)))
        assert block["error"]["requestId"] == EXAMPLE_REQUEST_ID


def test_page_does_not_depend_on_docs_url(settings: Any) -> None:
    settings.APIERRORS = {"DOCS_URL": "https://docs.example.com/catalogue.html"}
    assert render_catalogue() == CATALOGUE.read_text(encoding="utf-8")


def test_page_is_english_whatever_the_active_language() -> None:
    with translation.override("fr"):
        assert str(example_error(MissingField).message) == "Ce champ est obligatoire."
        assert render_catalogue() == CATALOGUE.read_text(encoding="utf-8")


def test_doc_url_points_at_the_code_anchor(settings: Any) -> None:
    base = "https://docs.example.com/errors/catalogue.html"
    settings.APIERRORS = {"DOCS_URL": base}
    response = APIClient().get("/t/openapi/missing/")
    assert response.status_code == 404
    doc_url = response.json()["error"]["docUrl"]
    assert doc_url == f"{base}#resource-not-found"
    assert f"({doc_url.rsplit('#', 1)[1]})=" in CATALOGUE.read_text(encoding="utf-8")


def test_doc_url_of_every_code_matches_its_anchor(settings: Any) -> None:
    settings.APIERRORS = {"DOCS_URL": "https://x.test/c.html"}
    page = CATALOGUE.read_text(encoding="utf-8")
    for code in codes.CATALOGUE:
        url = envelope.doc_url(code)
        assert url is not None
        assert f"({url.split('#', 1)[1]})=" in page


def test_project_codes_are_listed_on_request() -> None:
    page = render_catalogue(include_project=True)
    assert "## This project's codes" in page
    assert "(quota-exhausted)=\n### `QUOTA_EXHAUSTED`" in page
    assert str(QuotaExhausted.__doc__).strip() in page
    assert "QUOTA_EXHAUSTED" not in render_catalogue()


def test_command_writes_checks_and_prints(tmp_path: Path) -> None:
    target = tmp_path / "catalogue.md"
    call_command("apierrors_catalogue", "--output", str(target))
    assert target.read_text(encoding="utf-8") == render_catalogue()
    call_command("apierrors_catalogue", "--output", str(target), "--check")
    out = StringIO()
    call_command("apierrors_catalogue", stdout=out)
    assert out.getvalue() == render_catalogue()


def test_command_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    target = tmp_path / "catalogue.md"
    target.write_text("# Error catalogue\n", encoding="utf-8")
    with pytest.raises(CommandError, match="out of date"):
        call_command("apierrors_catalogue", "--output", str(target), "--check")
    with pytest.raises(CommandError, match="out of date"):
        call_command("apierrors_catalogue", "--output", str(tmp_path / "missing.md"), "--check")
    with pytest.raises(CommandError, match="--output"):
        call_command("apierrors_catalogue", "--check")


def test_committed_readme_table_matches_the_code() -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme == with_readme_table(readme), f"README.md is out of date; run: {REGENERATE}"
    assert "## The catalogue\n\n| code | status | meaning |\n" in readme


def test_readme_table_replaces_only_the_table_under_its_heading() -> None:
    table = render_readme_table()
    assert table.count("\n") == len(codes.CATALOGUE) + 2
    assert f"| `RESOURCE_CONFLICT` | 409 | {codes.RESOURCE_CONFLICT.description} |\n" in table
    stale = "# X\n\n| a |\n\n## The catalogue\n\n| code |\n| old |\n\nAfter.\n"
    assert with_readme_table(stale) == f"# X\n\n| a |\n\n## The catalogue\n\n{table}\nAfter.\n"
    assert with_readme_table("## The catalogue\nText.\n") == f"## The catalogue\n{table}\nText.\n"
    with pytest.raises(ValueError, match="The catalogue"):
        with_readme_table("# No such heading\n")


def test_command_writes_and_checks_a_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# P\n\n## The catalogue\n\n| old |\n\nEnd.\n", encoding="utf-8")
    with pytest.raises(CommandError, match="out of date; run: .* --readme"):
        call_command("apierrors_catalogue", "--readme", str(readme), "--check")
    call_command("apierrors_catalogue", "--readme", str(readme))
    assert readme.read_text(encoding="utf-8") == (
        f"# P\n\n## The catalogue\n\n{render_readme_table()}\nEnd.\n"
    )
    call_command("apierrors_catalogue", "--readme", str(readme), "--check")
    page = tmp_path / "catalogue.md"
    call_command("apierrors_catalogue", "--output", str(page), "--readme", str(readme))
    assert page.read_text(encoding="utf-8") == render_catalogue()
    headless = tmp_path / "OTHER.md"
    headless.write_text("# Nothing\n", encoding="utf-8")
    with pytest.raises(CommandError, match="heading"):
        call_command("apierrors_catalogue", "--readme", str(headless))


@pytest.mark.slow
def test_docs_build_without_warnings_and_anchors_exist(tmp_path: Path) -> None:
    # The same build as `make docs`: warnings are errors.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(DOCS),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "catalogue.html").read_text(encoding="utf-8")
    for code in codes.CATALOGUE:
        assert len(re.findall(f'id="{anchor(code)}"', html)) == 1, code

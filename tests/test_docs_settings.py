"""The settings and checks pages list every key and every check id the code has."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from apierrors import checks
from apierrors.conf import DEFAULTS
from apierrors.ratelimit import checks as ratelimit_checks
from apierrors.ratelimit import idiom_checks

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_settings_page_lists_every_key_with_its_default():
    page = (DOCS / "settings.md").read_text()
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]*)` \|", page, flags=re.MULTILINE))
    assert set(rows) == set(DEFAULTS)
    for key, default in DEFAULTS.items():
        assert rows[key] == repr(default).replace("'", '"'), key


def test_checks_page_lists_every_check_id():
    source = "".join(
        inspect.getsource(module) for module in (checks, ratelimit_checks, idiom_checks)
    )
    in_code = set(re.findall(r'id="(apierrors\.[EW]\d{3})"', source))
    page = (DOCS / "checks.md").read_text()
    in_docs = set(re.findall(r"^\| `(apierrors\.[EW]\d{3})` \|", page, flags=re.MULTILINE))
    assert in_code == in_docs

"""Sphinx configuration: MyST Markdown pages, the furo theme, warnings are errors in CI.

Links to Django's and DRF's documentation use the ``django`` and ``drf`` roles below
(``{django}`ref/settings/#std-setting-MIDDLEWARE```) rather than intersphinx, so that the
build needs no network: intersphinx would have to fetch both inventories, and DRF's site
publishes none.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apierrors import __version__  # noqa: E402

project = "apierrors"
author = "The apierrors developers"
copyright = "the apierrors developers"  # noqa: A001
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = ["myst_parser", "sphinx.ext.extlinks"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

myst_enable_extensions = ["colon_fence", "deflist"]
# Anchors for "## Headings" so pages can link to [a section](page.md#a-section).
myst_heading_anchors = 3

extlinks = {
    "django": ("https://docs.djangoproject.com/en/5.2/%s", None),
    "drf": ("https://www.django-rest-framework.org/%s", None),
}

html_theme = "furo"
html_title = f"apierrors {release}"
html_static_path = ["_static"] if (Path(__file__).parent / "_static").is_dir() else []

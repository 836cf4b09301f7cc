"""docs/quickstart.md, followed literally in a new project."""

from __future__ import annotations

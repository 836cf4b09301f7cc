"""apierrors: one error envelope and exact rate limiting for Django REST framework."""

from __future__ import annotations

__version__ = "0.1.0.dev0"

"""A project's own code, declared by subclassing ApiError."""

from __future__ import annotations

from apierrors.exceptions import ApiError


class QuotaExhausted(ApiError):
    """The plan's monthly quota of reports is used up."""

    status_code = 402
    default_code = "QUOTA_EXHAUSTED"
    default_detail = "Your plan's quota is used up."

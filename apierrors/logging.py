"""Logging support: put the current request id on every log record.

Add the filter to a handler in ``LOGGING`` and use ``%(request_id)s`` in a format::

    "filters": {"request_id": {"()": "apierrors.logging.RequestIDFilter"}},
    "handlers": {"console": {..., "filters": ["request_id"]}},
"""

from __future__ import annotations

import logging

from apierrors.request_id import get_request_id


class RequestIDFilter(logging.Filter):
    """Sets ``record.request_id`` to the id of the request being handled, or ``default``."""

    def __init__(self, name: str = "", default: str = "-") -> None:
        super().__init__(name)
        self.default = default

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a response's status after the middleware has returned, so the
            # context is gone; its record carries the request, which carries the id.
            request_id = get_request_id() or getattr(
                getattr(record, "request", None), "request_id", None
            )
            record.request_id = request_id or self.default
        return True

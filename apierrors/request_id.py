"""Request ids: generating, accepting and carrying them through a request.

A generated id is ``req_`` and 24 lowercase hex characters (96 random bits). An incoming
id is kept when it is 1 to 128 characters of ``A-Z a-z 0-9 . _ : -``; anything else is
replaced, never echoed. The current id lives in a context variable, so log records and
code far from the request can read it (sync and async alike).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from os import urandom

PATTERN = r"[A-Za-z0-9._:\-]{1,128}"
"""What an incoming id must match, whole (unanchored; the schema documents it anchored)."""
_VALID = re.compile(PATTERN)

current_request_id: ContextVar[str | None] = ContextVar("apierrors_request_id", default=None)


def generate() -> str:
    # secrets.token_hex(12), without its two calls around os.urandom.
    return "req_" + urandom(12).hex()


def is_valid(value: str) -> bool:
    return _VALID.fullmatch(value) is not None


def accept_or_generate(incoming: str | None) -> str:
    """The incoming id when it is valid, else a fresh one."""
    if incoming and is_valid(incoming):
        return incoming
    return generate()


def get_request_id() -> str | None:
    """The id of the request being handled in this context, if any."""
    return current_request_id.get()

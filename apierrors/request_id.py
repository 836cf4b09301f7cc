"""Request ids: generating, accepting and carrying them through a request.

A generated id is ``req_`` and 24 lowercase hex characters (96 random bits from
``os.urandom``). An incoming
id is kept when it is 1 to 128 characters of ``A-Z a-z 0-9 . _ : -``; anything else is
replaced, never echoed. The current id lives in a context variable, so log records and
code far from the request can read it (sync and async alike).
"""

from __future__ import annotations

import os
import re
import threading
from contextvars import ContextVar

PATTERN = r"[A-Za-z0-9._:\-]{1,128}"
"""What an incoming id must match, whole (unanchored; the schema documents it anchored)."""
_VALID = re.compile(PATTERN)

current_request_id: ContextVar[str | None] = ContextVar("apierrors_request_id", default=None)


IDS_PER_READ = 256
"""Ids generated from one ``os.urandom`` call (one system call, which costs an error
response about 3 microseconds in place: kernel entry and exit disturb the caches)."""

_ids = threading.local()


def _forked() -> None:
    # A child process must not hand out the ids left in its parent's buffer. It runs only
    # the thread that forked, whose buffer this is (other threads' are gone with them).
    _ids.__dict__.pop("ready", None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def generate() -> str:
    """``req_`` and 24 lowercase hex characters: 96 bits from ``os.urandom``, read for
    ``IDS_PER_READ`` ids at a time by each thread (and again after a fork)."""
    ready: list[str] | None = getattr(_ids, "ready", None)
    if not ready:
        digits = os.urandom(12 * IDS_PER_READ).hex()
        ready = _ids.ready = ["req_" + digits[at : at + 24] for at in range(0, len(digits), 24)]
    return ready.pop()


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

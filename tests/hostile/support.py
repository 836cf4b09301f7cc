"""Assertions of the hostile suite: a refusal is a clean envelope, and it changes nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Model

from apierrors import codes
from sandbox.accounts.models import Profile
from sandbox.campaigns.models import Campaign
from sandbox.segments.models import Segment
from sandbox.social.models import Connection, Post

REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")

# What a leaked exception looks like in a body or a header: a traceback, an exception's
# repr, a source path, an SQL statement, a database driver's name.
LEAKS = re.compile(
    r"Traceback|Error\(|Exception\(|File \"|\.py\b|/work/|site-packages|"
    r"\bSELECT |\bINSERT INTO\b|\bUPDATE \"|\bDELETE FROM\b|\bWHERE \"|sqlite3|psycopg|"
    r"IntegrityError|OperationalError|DataError|OverflowError|RecursionError|"
    r"UnicodeDecodeError|KeyError|TypeError|AttributeError"
)

SANDBOX_MODELS: tuple[type[Model], ...] = (
    get_user_model(),
    Profile,
    Segment,
    Campaign,
    Connection,
    Post,
)


def assert_no_leak(text: str) -> None:
    match = LEAKS.search(text)
    assert match is None, f"exception text in the answer: {match.group(0)!r} in {text[:500]!r}"


def assert_refused(
    response: Any,
    status: int | None = None,
    code: str | None = None,
    *,
    sent_request_id: str | None = None,
) -> dict[str, Any]:
    """``response`` is a 4xx envelope: JSON, one ``error`` member with a catalogue code and
    a message, the request id of its header (a generated one unless ``sent_request_id`` is
    a valid id that was kept), and no exception text anywhere."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    if status is not None:
        assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert list(body) == ["error"]
    error = body["error"]
    assert error["code"] in codes.CATALOGUE, error
    if code is not None:
        assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["requestId"] == response["X-Request-ID"]
    if sent_request_id is None:
        assert REQUEST_ID.fullmatch(error["requestId"]), error["requestId"]
    else:
        assert error["requestId"] == sent_request_id
    assert_no_leak(response.content.decode("utf-8"))
    for name, value in response.items():
        assert_no_leak(f"{name}: {value}")
    return dict(error)


def assert_answered(response: Any) -> None:
    """A success or a 4xx envelope (502 is the sandbox's documented PUBLISHING_FAILED)."""
    if response.status_code < 400:
        return
    if response.status_code == 502:
        assert json.loads(response.content)["error"]["code"] == "PUBLISHING_FAILED"
        return
    assert_refused(response)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of the sandbox's tables, to compare before and after a request."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in SANDBOX_MODELS
    }


@contextmanager
def unchanged() -> Iterator[None]:
    """Assert that nothing in the database changes inside the block."""
    before = snapshot()
    yield
    assert snapshot() == before, "a refused request wrote to the database"

"""Helpers of the sandbox's end-to-end tests: requests and envelope assertions."""

from __future__ import annotations

import json
import re
from typing import Any

from rest_framework.test import APIClient

REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")


def send(client: APIClient, method: str, url: str, body: Any = None, **extra: Any) -> Any:
    """A request with a JSON body (``body`` may be a str to send it as it is)."""
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    return getattr(client, method.lower())(url, **kwargs, **extra)


def assert_envelope(
    response: Any,
    code: str,
    status: int,
    details: list[tuple[str | None, str]] | None = None,
    *,
    message: str | None = None,
) -> dict[str, Any]:
    """The response is the envelope of ``code`` with ``status``, the request id of its
    ``X-Request-ID`` header, a message, and exactly ``details`` as (field, code) pairs."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    if message is not None:
        assert error["message"] == message
    assert error["requestId"] == response["X-Request-ID"]
    assert REQUEST_ID.fullmatch(error["requestId"])
    if details is None:
        assert "details" not in error, error
    else:
        assert [(item["field"], item["code"]) for item in error["details"]] == details, error
        for item in error["details"]:
            assert isinstance(item["message"], str)
            assert item["message"]
    return error

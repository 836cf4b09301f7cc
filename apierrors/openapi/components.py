"""The error components every schema shares: the envelope and its parts, and the headers.

The component names are part of the schema's public face: client generators name their
classes after them, so they do not change. The header names are the wire contract's, from
``apierrors.ratelimit.headers`` and ``apierrors.request_id``.
"""

from __future__ import annotations

from typing import Any

from apierrors import request_id
from apierrors.conf import conf
from apierrors.docs import EXAMPLE_REQUEST_ID
from apierrors.ratelimit.headers import (
    IETF_RATE_LIMIT_HEADERS,
    IETF_RATELIMIT,
    IETF_RATELIMIT_POLICY,
    LIMIT,
    RATE_LIMIT_HEADERS,
    REMAINING,
    RESET,
    RETRY_AFTER,
)

ENVELOPE = "ErrorEnvelope"
ERROR = "ApiError"
ERROR_CODE = "ErrorCode"
FIELD_PROBLEM = "FieldProblem"
PROBLEM = "ProblemDetails"
WWW_AUTHENTICATE = "WWW-Authenticate"
ALLOW = "Allow"

# What the schema says of a request id: the one rule request_id.is_valid() applies.
REQUEST_ID_PATTERN = f"^{request_id.PATTERN}$"


def ref(kind: str, name: str) -> dict[str, str]:
    """A reference to the component ``name`` of ``kind`` (``schemas``, ``headers``, ...)."""
    return {"$ref": f"#/components/{kind}/{name}"}


def _nullable_string(description: str, *, oas31: bool) -> dict[str, Any]:
    if oas31:
        return {"type": ["string", "null"], "description": description}
    return {"type": "string", "nullable": True, "description": description}


def error_schemas(
    all_codes: list[str], *, oas31: bool, problem_details: bool
) -> dict[str, dict[str, Any]]:
    """The schema components: ``ErrorCode`` (``all_codes``), ``FieldProblem``, ``ApiError``,
    ``ErrorEnvelope`` and, with ``problem_details``, ``ProblemDetails``."""
    request_id_schema = {
        "type": "string",
        "pattern": REQUEST_ID_PATTERN,
        "description": "The id of this request; also in the X-Request-ID header and logs.",
        "example": EXAMPLE_REQUEST_ID,
    }
    retry_after = {
        "type": "integer",
        "minimum": 1,
        "description": "Seconds to wait before retrying; equals the Retry-After header.",
    }
    details = {"type": "array", "items": ref("schemas", FIELD_PROBLEM)}
    result: dict[str, dict[str, Any]] = {
        ERROR_CODE: {
            "type": "string",
            "enum": list(all_codes),
            "description": "A stable, upper snake case error code; see the catalogue.",
        },
        FIELD_PROBLEM: {
            "type": "object",
            "description": "One problem of the request body, tied to a field or to none.",
            "properties": {
                "field": _nullable_string(
                    "Dotted path into the body (items[2].name), null when the problem "
                    "is not tied to a field.",
                    oas31=oas31,
                ),
                "code": ref("schemas", ERROR_CODE),
                "message": {"type": "string"},
            },
            "required": ["field", "code", "message"],
        },
        ERROR: {
            "type": "object",
            "properties": {
                "code": ref("schemas", ERROR_CODE),
                "message": {
                    "type": "string",
                    "description": "One sentence, safe to show to an end user.",
                },
                "requestId": request_id_schema,
                "details": details,
                "retryAfter": retry_after,
                "docUrl": {
                    "type": "string",
                    "format": "uri",
                    "description": "The code's entry in the error catalogue.",
                },
            },
            "required": ["code", "message", "requestId"],
        },
        ENVELOPE: {
            "type": "object",
            "description": "The body of every error answer.",
            "properties": {"error": ref("schemas", ERROR)},
            "required": ["error"],
            "additionalProperties": False,
        },
    }
    if problem_details:
        result[PROBLEM] = {
            "type": "object",
            "description": "An RFC 9457 problem document, for clients that accept "
            "application/problem+json.",
            "properties": {
                "type": {"type": "string", "format": "uri-reference"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string", "format": "uri-reference"},
                "code": ref("schemas", ERROR_CODE),
                "requestId": request_id_schema,
                "errors": details,
                "retryAfter": retry_after,
            },
            "required": ["type", "title", "status", "detail", "code", "requestId"],
        }
    return result


def error_headers() -> dict[str, dict[str, Any]]:
    """The header components the responses refer to, named after their headers."""
    integer = {"type": "integer", "minimum": 0}
    result: dict[str, dict[str, Any]] = {
        conf.REQUEST_ID_HEADER: {
            "description": "The id of this request (generated, or the client's when valid).",
            "required": True,
            "schema": {"type": "string", "pattern": REQUEST_ID_PATTERN},
        },
        LIMIT: {
            "description": "Requests allowed in the window of the most restrictive policy.",
            "schema": integer,
        },
        REMAINING: {
            "description": "Requests left in that window.",
            "schema": integer,
        },
        RESET: {
            "description": "Unix time (seconds) when that window's quota is whole again.",
            "schema": integer,
        },
        RETRY_AFTER: {
            "description": "Seconds to wait before retrying; equals the body's retryAfter.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        },
        WWW_AUTHENTICATE: {
            "description": "The authentication challenge (RFC 6750 for bearer tokens).",
            "schema": {"type": "string"},
        },
        ALLOW: {
            "description": "The methods the URL allows.",
            "required": True,
            "schema": {"type": "string"},
        },
    }
    if conf.IETF_RATELIMIT_HEADERS:
        result[IETF_RATELIMIT] = {
            "description": "The IETF draft's RateLimit field.",
            "schema": {"type": "string"},
        }
        result[IETF_RATELIMIT_POLICY] = {
            "description": "The IETF draft's RateLimit-Policy field.",
            "schema": {"type": "string"},
        }
    return result


def rate_limit_headers() -> tuple[str, ...]:
    """The rate-limit headers a throttled operation sends, as the settings have them."""
    if not conf.RATELIMIT_HEADERS:
        return ()
    extra = IETF_RATE_LIMIT_HEADERS if conf.IETF_RATELIMIT_HEADERS else ()
    return (*RATE_LIMIT_HEADERS, *extra)

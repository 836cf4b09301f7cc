"""Error responses: ``ErrorDocument`` builds them, ``STANDARD_RESPONSES`` names the shared ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from apierrors import exceptions as errors
from apierrors import problem
from apierrors.conf import conf
from apierrors.docs import example_body
from apierrors.openapi.components import (
    ALLOW,
    ENVELOPE,
    PROBLEM,
    WWW_AUTHENTICATE,
    error_headers,
    error_schemas,
    rate_limit_headers,
    ref,
)
from apierrors.openapi.outcomes import (
    Outcome,
    code_order,
    default_authentication_outcomes,
    known_codes,
    parse_error_outcome,
    rate_limited_outcome,
    validation_outcomes,
)


@dataclass
class ErrorDocument:
    """Builds the error components and responses of one schema generation.

    ``oas31`` switches nullable fields to OpenAPI 3.1's type lists; ``problem_details`` adds
    the ``application/problem+json`` representation beside the envelope.
    """

    oas31: bool
    problem_details: bool
    all_codes: list[str] = field(default_factory=known_codes)

    def schemas(self) -> dict[str, dict[str, Any]]:
        return error_schemas(self.all_codes, oas31=self.oas31, problem_details=self.problem_details)

    def headers(self) -> dict[str, dict[str, Any]]:
        return error_headers()

    def rate_limit_headers(self) -> tuple[str, ...]:
        return rate_limit_headers()

    def response(self, outcomes: Sequence[Outcome]) -> dict[str, Any]:
        """The response object of one status: its codes, examples and headers."""
        status = outcomes[0].status
        by_code: dict[str, Outcome] = {}
        for outcome in outcomes:
            by_code.setdefault(outcome.code, outcome)
        ordered = sorted(by_code.values(), key=lambda o: code_order(o.code, self.all_codes))
        code_list = [outcome.code for outcome in ordered]
        header_names: list[str] = [conf.REQUEST_ID_HEADER]
        for outcome in ordered:
            header_names += [name for name in outcome.headers if name not in header_names]
        error_narrowing: dict[str, Any] = {
            "type": "object",
            "properties": {"code": {"type": "string", "enum": code_list}},
        }
        if status == 429:
            error_narrowing["required"] = ["retryAfter"]
        bodies = {outcome.code: example_body(outcome.error) for outcome in ordered}
        content: dict[str, Any] = {
            problem.JSON_MEDIA_TYPE: {
                "schema": {
                    "allOf": [
                        ref("schemas", ENVELOPE),
                        {"type": "object", "properties": {"error": error_narrowing}},
                    ]
                },
                "examples": {
                    code: {"summary": code, "value": body} for code, body in bodies.items()
                },
            }
        }
        if self.problem_details:
            content[problem.MEDIA_TYPE] = {
                "schema": {
                    "allOf": [
                        ref("schemas", PROBLEM),
                        {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string", "enum": code_list},
                                "status": {"type": "integer", "enum": [status]},
                            },
                        },
                    ]
                },
                "examples": {
                    code: {"summary": code, "value": problem.from_envelope(body, status)}
                    for code, body in bodies.items()
                },
            }
        return {
            "description": "\n".join(f"- {outcome.description()}" for outcome in ordered),
            "headers": {name: ref("headers", name) for name in header_names},
            "content": content,
        }


# Shared response components: the answer of a status wherever it is the same. An operation
# whose answer for that status differs (more codes, other headers) gets its own response.
STANDARD_RESPONSES: dict[str, Callable[[ErrorDocument], list[Outcome]]] = {
    "BadRequest": lambda doc: [parse_error_outcome()],
    "Unauthorized": lambda doc: (
        [outcome for outcome in default_authentication_outcomes() if outcome.status == 401]
        or [Outcome(errors.Unauthorized(), (WWW_AUTHENTICATE,))]
    ),
    "Forbidden": lambda doc: [Outcome(errors.Forbidden())],
    "NotFound": lambda doc: [Outcome(errors.ResourceNotFound())],
    "MethodNotAllowed": lambda doc: [Outcome(errors.MethodNotAllowed(), (ALLOW,))],
    "NotAcceptable": lambda doc: [Outcome(errors.NotAcceptable())],
    "UnsupportedMediaType": lambda doc: [Outcome(errors.UnsupportedMediaType())],
    "ValidationFailed": lambda doc: validation_outcomes(
        reject_unknown_fields=conf.REJECT_UNKNOWN_FIELDS
    ),
    "RateLimited": lambda doc: [rate_limited_outcome(doc.rate_limit_headers())],
    "ServerError": lambda doc: [Outcome(errors.ServerError())],
    "ServiceUnavailable": lambda doc: [Outcome(errors.ServiceUnavailable())],
}


def status_key(item: tuple[str, Any]) -> tuple[int, str]:
    """Sort key of an operation's responses: statuses in order, then ``default`` and others."""
    key = item[0]
    return (int(key), key) if key.isdigit() else (1000, key)

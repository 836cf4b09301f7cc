"""Schemathesis, driven in process through Hypothesis.

Schemathesis's pytest loader does not run on pytest 9, so the tests draw cases from each
operation's Hypothesis strategy and call the Django application through Schemathesis's WSGI
transport, with every response check on. ``run`` does that for one operation;
``check_response`` validates one hand-made request (the steps of a stateful sequence).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Every check that judges one response against the schema.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
]


def load(
    schema: dict[str, Any],
    *,
    accepted: Sequence[int | str] = (),
    failures: Sequence[int | str] = (),
    generate_credentials: bool = False,
) -> Any:
    """The schema, bound to the Django application in process.

    ``accepted`` adds statuses that a schema-valid request may get besides Schemathesis's
    defaults (2xx, 401, 403, 404, 409, 429): for rules JSON Schema cannot state.
    ``failures`` lists the 5xx statuses that are documented answers, not server errors
    (502 when an upstream fails); every other 5xx fails ``not_a_server_error``. The
    credentials are the caller's (``headers`` of ``run``), so that the requests reach the
    views rather than stop at authentication, unless ``generate_credentials``.
    """
    statuses = ["2xx", "3xx", "401", "403", "404", "409", "429", *map(str, accepted)]
    config = SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {"expected-statuses": statuses},
                "not_a_server_error": {
                    "expected-statuses": ["2xx", "3xx", "4xx", *map(str, failures)]
                },
            },
            "generation": {"with-security-parameters": generate_credentials},
        }
    )
    loaded = schemathesis.openapi.from_dict(schema, config=config)
    loaded.app = InTestTransaction()
    return loaded


class InTestTransaction:
    """Django's WSGI application, minus the per-request connection closing a server needs.

    Around each request Django closes connections that are not in autocommit mode, which a
    test's transaction is not: on PostgreSQL that would drop the test's data mid-test.
    Django's test client disconnects ``close_old_connections`` the same way.
    """

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()
            return [body]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def operations(loaded: Any) -> dict[str, Any]:
    """The schema's operations by label (``POST /api/v1/segments/``)."""
    found = [result.ok() for result in loaded.get_all_operations()]
    return {operation.label: operation for operation in found}


def strategy_with_path(operation: Any, mode: GenerationMode, fixed: dict[str, Any]) -> Any:
    """``operation``'s requests in ``mode`` with the path parameters ``fixed``."""
    return operation.as_strategy(generation_mode=mode, path_parameters=fixed)


def run(
    operation: Any,
    *,
    headers: Mapping[str, str],
    max_examples: int,
    extra_checks: Sequence[Callable[..., Any]] = (),
    modes: Sequence[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    path_parameters: st.SearchStrategy[dict[str, Any]] | None = None,
) -> None:
    """Call ``operation`` with ``max_examples`` generated requests per mode, each checked.

    ``path_parameters`` draws the path (ids of objects that exist, say); without it they
    are generated too. The run is derandomized, so a failure repeats on every run.
    """
    for mode in modes:
        if mode.is_negative and not negatable(operation, fixed_path=path_parameters is not None):
            continue
        if path_parameters is None:
            strategy = operation.as_strategy(generation_mode=mode)
        else:
            strategy = path_parameters.flatmap(partial(strategy_with_path, operation, mode))

        @given(case=strategy)
        @hypothesis_settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            case.call_and_validate(headers=dict(headers), checks=[*CHECKS, *extra_checks])

        call()


def negatable(operation: Any, *, fixed_path: bool) -> bool:
    """Whether a request to ``operation`` has a part to make invalid: a body, a query
    parameter, or a path parameter that is generated."""
    return bool(
        list(operation.body)
        or list(operation.query)
        or (list(operation.path_parameters) and not fixed_path)
    )


def check_response(
    operation: Any,
    *,
    headers: Mapping[str, str],
    body: Any = None,
    path_parameters: Mapping[str, Any] | None = None,
) -> Any:
    """Send one request to ``operation`` and check its response; returns the response."""
    kwargs: dict[str, Any] = {"path_parameters": dict(path_parameters or {})}
    if body is not None:
        kwargs["body"] = body
        kwargs["media_type"] = "application/json"
    case = operation.Case(**kwargs)
    return case.call_and_validate(headers=dict(headers), checks=CHECKS)

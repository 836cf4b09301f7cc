"""OpenTelemetry: error codes and rate-limit outcomes on the current span (``pip install
apierrors[otel]``).

Add ``"apierrors.contrib.otel"`` to ``INSTALLED_APPS`` (or call ``install()``). It needs
only ``opentelemetry-api``: the spans are whatever the project's instrumentation
(``opentelemetry-instrumentation-django``, or its own) made current, and nothing is done
while no span is recording. On the current span it sets:

- for an error response, ``error.type`` (the envelope's code) and
  ``http.response.status_code`` (the semantic conventions' names), ``apierrors.error.code``,
  and the span's status to ``ERROR`` for a 5xx; an unexpected exception is recorded on the
  span, since apierrors handles it and it never reaches the instrumentation;
- for each throttle decision, ``apierrors.ratelimit.*`` (scope, allowed, limit, remaining,
  reset) of the last decision, and an event for each refusal
  (``apierrors.ratelimit.refused``) and each check the store could not answer
  (``apierrors.ratelimit.store_unavailable``);
- in both cases ``apierrors.request_id``, the ``X-Request-ID`` of the request, so that
  logs (which carry it) and traces join.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import StatusCode

from apierrors import signals
from apierrors.request_id import get_request_id

__all__ = [
    "REFUSED_EVENT",
    "REQUEST_ID",
    "UNAVAILABLE_EVENT",
    "install",
    "on_error_response",
    "on_throttle_decision",
    "uninstall",
]

REQUEST_ID = "apierrors.request_id"
REFUSED_EVENT = "apierrors.ratelimit.refused"
UNAVAILABLE_EVENT = "apierrors.ratelimit.store_unavailable"


def _request_id(request: Any) -> str | None:
    return getattr(request, "request_id", None) or get_request_id()


def on_error_response(
    sender: Any,
    *,
    code: str,
    status: int,
    request: Any,
    exception: BaseException | None,
    unexpected: bool,
    **kwargs: Any,
) -> None:
    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, str | int] = {
        "error.type": code,
        "http.response.status_code": status,
        "apierrors.error.code": code,
    }
    request_id = _request_id(request)
    if request_id:
        attributes[REQUEST_ID] = request_id
    span.set_attributes(attributes)
    if status >= 500:
        span.set_status(StatusCode.ERROR, code)
    if unexpected and exception is not None:
        span.record_exception(exception)


def on_throttle_decision(
    sender: Any,
    *,
    request: Any,
    scope: str,
    store: str,
    allowed: bool,
    limit: int | None,
    remaining: int | None,
    reset: int | None,
    store_unavailable: bool,
    fail_open: bool | None,
    **kwargs: Any,
) -> None:
    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, str | int | bool] = {
        "apierrors.ratelimit.scope": scope,
        "apierrors.ratelimit.allowed": allowed,
    }
    if limit is not None and remaining is not None and reset is not None:
        attributes["apierrors.ratelimit.limit"] = limit
        attributes["apierrors.ratelimit.remaining"] = remaining
        attributes["apierrors.ratelimit.reset"] = reset
    request_id = _request_id(request)
    if request_id:
        attributes[REQUEST_ID] = request_id
    span.set_attributes(attributes)
    if store_unavailable:
        span.add_event(
            UNAVAILABLE_EVENT,
            {
                "apierrors.ratelimit.scope": scope,
                "apierrors.ratelimit.store": store,
                "apierrors.ratelimit.fail_open": bool(fail_open),
            },
        )
    elif not allowed:
        span.add_event(REFUSED_EVENT, attributes)


def install() -> None:
    """Connect the receivers (``AppConfig.ready`` does it; calling it twice is harmless)."""
    signals.error_response.connect(on_error_response, dispatch_uid=__name__ + ".errors")
    signals.throttle_decision.connect(on_throttle_decision, dispatch_uid=__name__ + ".throttle")


def uninstall() -> None:
    signals.error_response.disconnect(dispatch_uid=__name__ + ".errors")
    signals.throttle_decision.disconnect(dispatch_uid=__name__ + ".throttle")

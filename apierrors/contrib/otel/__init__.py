"""OpenTelemetry: error codes and rate-limit outcomes on the current span (``pip install
apierrors[otel]``).

Add ``"apierrors.contrib.otel"`` to ``INSTALLED_APPS`` (or call ``install()``). It needs
only ``opentelemetry-api``: the spans are whatever the project's instrumentation
(``opentelemetry-instrumentation-django``, or its own) made current, and nothing is done
while no span is recording. On the current span it sets:

- for an error response, ``error.type`` (the envelope's code) and
  ``http.response.status_code`` (the semantic conventions' names), and the span's status to
  ``ERROR`` for a 5xx; an unexpected exception is recorded on the span, since apierrors
  handles it and it never reaches the instrumentation;
- for a throttle check that refused the request or found the store unavailable,
  ``apierrors.ratelimit.scope``, ``.allowed`` and ``.remaining``, and an event: for a refusal
  ``apierrors.ratelimit.refused`` (with the scope, limit and reset), for an outage
  ``apierrors.ratelimit.store_unavailable``. An allowed check leaves the span alone: it is
  the hot path, and its outcome is in the ``X-RateLimit-*`` response headers, which the
  Django instrumentation can record
  (``OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_RESPONSE``);
- with an error, ``apierrors.request_id``: the ``requestId`` a client reports leads to
  its trace. (Every log record can carry the ``trace_id``, see ``apierrors.logging``, so
  logs and traces join for successful requests too.)

Few attributes, set in one ``set_attributes`` call and only on a recording span: the SDK
validates every value it is given, under a lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import StatusCode

from apierrors import signals
from apierrors.request_id import get_request_id

if TYPE_CHECKING:
    from django.http import HttpRequest

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


def on_error_response(
    code: str,
    status: int,
    route: str,
    request: HttpRequest | None,
    exception: BaseException | None,
    unexpected: bool,
) -> None:
    """The ``error_response`` hook: the code, status and request id on the current span."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, str | int] = {"error.type": code, "http.response.status_code": status}
    request_id = getattr(request, "request_id", None) or get_request_id()
    if request_id:
        attributes[REQUEST_ID] = request_id
    span.set_attributes(attributes)
    if status >= 500:
        span.set_status(StatusCode.ERROR, code)
    if unexpected and exception is not None:
        span.record_exception(exception)


def on_throttle_decision(
    request: HttpRequest,
    scope: str,
    store: str,
    allowed: bool,
    limit: int | None,
    remaining: int | None,
    reset: int | None,
    latency: float,
    store_unavailable: bool,
    fail_open: bool | None,
    breaker_open: bool,
) -> None:
    """The ``throttle_decision`` hook: refusals and outages on the current span."""
    if allowed and not store_unavailable:
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    attributes: dict[str, str | int | bool] = {
        "apierrors.ratelimit.scope": scope,
        "apierrors.ratelimit.allowed": allowed,
    }
    if remaining is not None:
        attributes["apierrors.ratelimit.remaining"] = remaining
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
        # The refusal becomes a 429 envelope, which sets the request id on the span.
        span.add_event(
            REFUSED_EVENT,
            {
                "apierrors.ratelimit.scope": scope,
                "apierrors.ratelimit.limit": limit or 0,
                "apierrors.ratelimit.reset": reset or 0,
            },
        )


def install() -> None:
    """Subscribe the hooks (``AppConfig.ready`` does it; calling it twice is harmless)."""
    signals.subscribe(signals.error_response, on_error_response)
    signals.subscribe(signals.throttle_decision, on_throttle_decision)


def uninstall() -> None:
    signals.unsubscribe(signals.error_response, on_error_response)
    signals.unsubscribe(signals.throttle_decision, on_throttle_decision)

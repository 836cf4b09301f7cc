"""Signals for watching apierrors: one per error response, one per throttle decision.

Connect a receiver as to any Django signal::

    from apierrors.signals import error_response, throttle_decision

    @receiver(error_response)
    def count(sender, *, code, status, route, request, exception, unexpected, **kwargs): ...

``apierrors.contrib.prometheus`` and ``apierrors.contrib.otel`` are such receivers. The
``send_*`` helpers below are what apierrors calls; each returns at once when no receiver is
connected, before it builds a single argument, so the signals cost nothing unless someone
listens. They send with ``send_robust``: a receiver that raises is logged (logger
``django.dispatch``) and the request goes on, so a broken metrics backend never turns an
answer into a 500.

``error_response`` (sender: the ``ExceptionHandler`` class) is sent once for every envelope
response, with:

- ``code``, ``status``: the envelope's code and the response's status;
- ``route``: the URL pattern the request matched (``request.resolver_match.route``, e.g.
  ``api/v1/campaigns/<int:pk>/``), ``ROUTE_UNMATCHED`` when none did. Never the raw path;
- ``request`` (the Django ``HttpRequest``, or ``None``), ``response``, ``error`` (the
  ``ApiError`` the envelope was built from);
- ``exception``: the exception being handled when the response was built (what the view
  raised; ``Http404`` or ``Resolver404`` for Django's error views), ``None`` for a non-JSON
  error page the middleware replaced;
- ``unexpected``: whether it was a failure nobody raised on purpose (a bug, an outage): the
  handler reported it with its traceback, or, for an error page built without the
  exception, its code is ``SERVER_ERROR``.

``throttle_decision`` (sender: the throttle class) is sent for each check of a
``RateLimitThrottle`` that had a rate and a key, with:

- ``throttle`` (the instance), ``request``, ``scope`` (``throttle.policy_label()``: the
  scope, else the class name), ``store`` (the cache alias);
- ``allowed``; ``limit``, ``remaining`` and ``reset`` (epoch seconds) of the decisive policy,
  as in the ``X-RateLimit-*`` headers (``None`` when the store was unavailable);
- ``latency``: seconds spent in ``store.check`` (``time.perf_counter``);
- ``store_unavailable``; ``fail_open``: when the store was unavailable, whether the request
  was let through (``FAIL_OPEN``), else ``None``; ``breaker_open``: whether the store's
  circuit breaker is open after this check.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase
    from rest_framework.request import Request

    from apierrors.exceptions import ApiError
    from apierrors.ratelimit.base import Decision, Plan, Store
    from apierrors.throttling import RateLimitThrottle

__all__ = [
    "ROUTE_UNMATCHED",
    "error_response",
    "listening",
    "route_of",
    "send_error_response",
    "send_throttle_decision",
    "throttle_decision",
]

# Senders are classes, so the receivers of each sender can be cached.
error_response = Signal(use_caching=True)
throttle_decision = Signal(use_caching=True)

ROUTE_UNMATCHED = "(unmatched)"
"""The ``route`` of a request that matched no URL pattern (or is not known)."""

_MICROS = 1_000_000


def route_of(request: HttpRequest | None) -> str:
    """The URL pattern ``request`` matched: a bounded label, never the raw path."""
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    return route if route else ROUTE_UNMATCHED


def send_error_response(
    handler: object,
    response: HttpResponseBase,
    error: ApiError,
    request: HttpRequest | None,
    exception: BaseException | None = None,
    unexpected: bool | None = None,
) -> None:
    """Send ``error_response`` (returns at once when no receiver is connected).

    Without ``exception``, the exception being handled is taken (the handler builds the
    response inside DRF's and Django's ``except`` blocks); ``unexpected`` left ``None``
    means a ``SERVER_ERROR``: Django only answers 500 for an exception nobody handled.
    """
    if not error_response.receivers:
        return
    if exception is None:
        # Django calls its error views and process_exception while handling the exception.
        exception = sys.exc_info()[1]
    if unexpected is None:
        unexpected = error.code == "SERVER_ERROR"
    error_response.send_robust(
        sender=type(handler),
        code=error.code,
        status=response.status_code,
        route=route_of(request),
        request=request,
        response=response,
        error=error,
        exception=exception,
        unexpected=unexpected,
    )


def listening() -> float:
    """A ``time.perf_counter()`` reading when ``throttle_decision`` has receivers, else 0.

    Throttles read it before the store check, so the store's latency is measured only
    when someone listens.
    """
    return time.perf_counter() if throttle_decision.receivers else 0.0


def send_throttle_decision(
    throttle: RateLimitThrottle,
    request: Request | HttpRequest,
    store: Store,
    started: float,
    plan: Plan | None = None,
    decision: Decision | None = None,
    fail_open: bool | None = None,
) -> None:
    """Send ``throttle_decision`` for one check; ``decision`` is ``None`` when the store
    failed.

    ``started`` is what ``listening()`` returned before the check: 0 means nobody listened
    then, and nothing is sent.
    """
    if not started or not throttle_decision.receivers:
        return
    latency = time.perf_counter() - started
    limit = remaining = reset = None
    allowed = bool(fail_open)
    if plan is not None and decision is not None:
        limit = plan.policies[decision.index].limit
        remaining = decision.remaining
        reset = -(-decision.reset // _MICROS)
        allowed = decision.allowed
    breaker: Any = getattr(store, "breaker", None)
    throttle_decision.send_robust(
        sender=type(throttle),
        throttle=throttle,
        request=getattr(request, "_request", request),
        scope=throttle.policy_label(),
        store=store.alias,
        allowed=allowed,
        limit=limit,
        remaining=remaining,
        reset=reset,
        latency=latency,
        store_unavailable=decision is None,
        fail_open=fail_open if decision is None else None,
        breaker_open=bool(breaker is not None and breaker.is_open),
    )

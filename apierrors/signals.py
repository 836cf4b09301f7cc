"""Signals for watching apierrors: one per error response, one per throttle decision.

Connect a receiver as to any Django signal::

    from apierrors.signals import error_response, throttle_decision

    @receiver(error_response)
    def count(sender, *, code, status, route, request, exception, unexpected, **kwargs): ...

The ``send_*`` helpers below are what apierrors calls; each returns at once when nobody
listens, before it builds a single argument, so the signals cost nothing unless someone
does. They send with ``send_robust``: a receiver that raises is logged (logger
``django.dispatch``) and the request goes on, so a broken metrics backend never turns an
answer into a 500. In an event loop's thread, where ``send_robust`` cannot run an async
receiver, async receivers run as tasks of the loop (``_send_robust``).

The integrations shipped with apierrors (``apierrors.contrib.prometheus``,
``apierrors.contrib.otel``, ``apierrors.logging.LogContextMiddleware``) do not go through
Django's dispatch: they ``subscribe()`` a hook that the helpers call directly, with
positional arguments, before sending the signal (a few microseconds less per event, which
matters on the throttle path). A hook that raises is logged (logger ``apierrors.signals``)
and the request goes on, as with ``send_robust``. Third parties connect to the signals.

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
  handler's ``is_unexpected`` of the exception (what it reports with its traceback; a
  ``ServerError`` raised on purpose is not), or, for an error page built without the
  exception, whether its code is ``SERVER_ERROR``.

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

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase
    from rest_framework.request import Request

    from apierrors.exceptions import ApiError
    from apierrors.handler import ExceptionHandler
    from apierrors.ratelimit.base import Decision, Plan, Store
    from apierrors.throttling import RateLimitThrottle

__all__ = [
    "ROUTE_UNMATCHED",
    "DecisionHook",
    "ErrorHook",
    "error_response",
    "listening",
    "route_of",
    "send_error_response",
    "send_throttle_decision",
    "subscribe",
    "throttle_decision",
    "unsubscribe",
]

# Senders are classes, so the receivers of each sender can be cached.
error_response = Signal(use_caching=True)
throttle_decision = Signal(use_caching=True)

ROUTE_UNMATCHED = "(unmatched)"
"""The ``route`` of a request that matched no URL pattern (or is not known)."""

_MICROS = 1_000_000

logger = logging.getLogger(__name__)

ErrorHook = Callable[[str, int, str, "HttpRequest | None", "BaseException | None", bool], None]
"""``hook(code, status, route, request, exception, unexpected)``: ``error_response``'s
arguments of the same names."""
DecisionHook = Callable[
    [
        "HttpRequest",
        str,
        str,
        bool,
        "int | None",
        "int | None",
        "int | None",
        float,
        bool,
        "bool | None",
        bool,
    ],
    None,
]
"""``hook(request, scope, store, allowed, limit, remaining, reset, latency,
store_unavailable, fail_open, breaker_open)``: ``throttle_decision``'s arguments of the same
names."""

# Called directly by the send helpers, in order; a list, so "anyone?" is one truth test.
_error_hooks: list[ErrorHook] = []
_decision_hooks: list[DecisionHook] = []


def _hooks_of(signal: Signal) -> list[Any]:
    if signal is error_response:
        return _error_hooks
    if signal is throttle_decision:
        return _decision_hooks
    raise ValueError(f"{signal!r} is not one of apierrors' signals.")


def subscribe(signal: Signal, hook: ErrorHook | DecisionHook) -> None:
    """Have the helpers call ``hook`` for each event of ``signal`` (``error_response`` or
    ``throttle_decision``), with the positional arguments of ``ErrorHook`` or
    ``DecisionHook``. Subscribing a hook twice is harmless."""
    hooks = _hooks_of(signal)
    if hook not in hooks:
        hooks.append(hook)


def unsubscribe(signal: Signal, hook: ErrorHook | DecisionHook) -> None:
    """Undo ``subscribe`` (harmless when ``hook`` is not subscribed)."""
    hooks = _hooks_of(signal)
    if hook in hooks:
        hooks.remove(hook)


def _failed(hook: object, signal: str) -> None:
    logger.exception("Error calling %r for apierrors' %s event.", hook, signal)


# The async receivers running in the background: the event loop keeps only weak references.
_tasks: set[asyncio.Task[None]] = set()
_dispatch_logger = logging.getLogger("django.dispatch")


def _send_robust(signal: Signal, sender: type, **named: Any) -> None:
    """``signal.send_robust(sender, **named)``, also in an event loop's thread.

    Django's ``send_robust`` runs async receivers through ``async_to_sync``, which raises in
    a thread running an event loop: where apierrors runs there (``aallow_request``, the
    exception handler of an adrf view, ``APIErrorsMiddleware`` under ASGI), an async
    receiver would turn the answer into a 500. There the sync receivers are called at once,
    as ``send_robust`` calls them, and the async ones run as tasks of that loop.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        signal.send_robust(sender=sender, **named)
        return
    # The split send_robust makes itself (Django 5.0+, typed by django-stubs).
    sync_receivers, async_receivers = signal._live_receivers(sender)
    for receiver in sync_receivers:
        try:
            receiver(signal=signal, sender=sender, **named)
        except Exception as exc:
            _receiver_failed(receiver, exc)
    for receiver in async_receivers:
        task = loop.create_task(_robust(receiver, receiver(signal=signal, sender=sender, **named)))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)


async def _robust(receiver: Callable[..., Any], call: Coroutine[Any, Any, Any]) -> None:
    try:
        await call
    except Exception as exc:
        _receiver_failed(receiver, exc)


def _receiver_failed(receiver: Callable[..., Any], exc: Exception) -> None:
    # As send_robust logs it.
    name = getattr(receiver, "__qualname__", repr(receiver))
    _dispatch_logger.error("Error calling %s in Signal.send_robust() (%s)", name, exc, exc_info=exc)


def route_of(request: HttpRequest | None) -> str:
    """The URL pattern ``request`` matched: a bounded label, never the raw path (``""`` for
    the root's ``path("", ...)``, Django's route of it)."""
    route = getattr(getattr(request, "resolver_match", None), "route", None)
    return ROUTE_UNMATCHED if route is None else route


def send_error_response(
    handler: ExceptionHandler,
    response: HttpResponseBase,
    error: ApiError,
    request: HttpRequest | None,
    exception: BaseException | None = None,
    unexpected: bool | None = None,
) -> None:
    """Send ``error_response`` (returns at once when no receiver is connected).

    Without ``exception``, the exception being handled is taken (the handler builds the
    response inside DRF's and Django's ``except`` blocks); ``unexpected`` left ``None`` is
    the handler's ``is_unexpected`` of that exception (a ``ServerError`` raised on purpose
    is not), and without one, whether the code is ``SERVER_ERROR``.
    """
    hooks = _error_hooks
    if not hooks and not error_response.receivers:
        return
    if exception is None:
        # Django calls its error views and process_exception while handling the exception.
        exception = sys.exc_info()[1]
    code = error.code
    if unexpected is None:
        if exception is None:
            unexpected = code == "SERVER_ERROR"
        else:
            unexpected = handler.is_unexpected(exception, error)
    status = response.status_code
    # route_of(request) inlined: a Python call is a fair share of the work of a hook.
    route = getattr(getattr(request, "resolver_match", None), "route", None)
    if route is None:
        route = ROUTE_UNMATCHED
    for hook in hooks:
        try:
            hook(code, status, route, request, exception, unexpected)
        except Exception:
            _failed(hook, "error_response")
    if not error_response.receivers:
        return
    _send_robust(
        error_response,
        type(handler),
        code=code,
        status=status,
        route=route,
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
    return time.perf_counter() if _decision_hooks or throttle_decision.receivers else 0.0


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
    hooks = _decision_hooks
    if not started or not (hooks or throttle_decision.receivers):
        return
    latency = time.perf_counter() - started
    limit = remaining = reset = None
    allowed = bool(fail_open)
    unavailable = decision is None
    if plan is not None and decision is not None:
        limit = plan.policies[decision.index].limit
        remaining = decision.remaining
        reset = -(-decision.reset // _MICROS)
        allowed = decision.allowed
    if not unavailable:
        fail_open = None
    breaker: Any = getattr(store, "breaker", None)
    breaker_open = bool(breaker is not None and breaker.is_open)
    django_request = getattr(request, "_request", request)
    scope = throttle.policy_label()
    alias = store.alias
    for hook in hooks:
        try:
            hook(
                django_request,
                scope,
                alias,
                allowed,
                limit,
                remaining,
                reset,
                latency,
                unavailable,
                fail_open,
                breaker_open,
            )
        except Exception:
            _failed(hook, "throttle_decision")
    if not throttle_decision.receivers:
        return
    _send_robust(
        throttle_decision,
        type(throttle),
        throttle=throttle,
        request=django_request,
        scope=scope,
        store=alias,
        allowed=allowed,
        limit=limit,
        remaining=remaining,
        reset=reset,
        latency=latency,
        store_unavailable=unavailable,
        fail_open=fail_open,
        breaker_open=breaker_open,
    )

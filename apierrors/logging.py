"""Logging support: put the current request id on every log record.

Add the filter to a handler in ``LOGGING`` and use ``%(request_id)s`` in a format::

    "filters": {"request_id": {"()": "apierrors.logging.RequestIDFilter"}},
    "handlers": {"console": {..., "filters": ["request_id"]}},

For structured logs, ``RequestContextFilter`` (with ``LogContextMiddleware``) adds the route
and the error code, and ``json_formatter`` writes each record as one JSON object
(docs/observability.md).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.signals import request_started

from apierrors import signals
from apierrors.request_id import get_request_id

if TYPE_CHECKING:
    from django.http import HttpRequest


class RequestIDFilter(logging.Filter):
    """Sets ``record.request_id`` to the id of the request being handled, or ``default``."""

    def __init__(self, name: str = "", default: str = "-") -> None:
        super().__init__(name)
        self.default = default

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a response's status after the middleware has returned, so the
            # context is gone; its record carries the request, which carries the id.
            request_id = get_request_id() or getattr(
                getattr(record, "request", None), "request_id", None
            )
            record.request_id = request_id or self.default
        return True


# Structured logs -------------------------------------------------------------------------


class RequestLogContext:
    """What the log records of one request say about it, beyond its id."""

    __slots__ = ("code", "request_id", "route")

    def __init__(self, request_id: str | None) -> None:
        self.request_id = request_id
        self.route: str | None = None
        self.code: str | None = None


_log_context: ContextVar[RequestLogContext | None] = ContextVar(
    "apierrors_log_context", default=None
)
# The context of the request a thread finished last: runserver writes its access line after
# the response has left every middleware.
_finished = threading.local()


def _forget_finished(sender: object, **kwargs: Any) -> None:
    # runserver serves a kept-alive connection's requests in one thread: a request answered
    # before LogContextMiddleware (a static file, a CORS preflight) must not have its access
    # line credited to the one before it.
    _finished.context = None


_CONTEXT_ATTR = "_apierrors_log_context"


def _remember_code(
    code: str,
    status: int,
    route: str,
    request: HttpRequest | None,
    exception: BaseException | None,
    unexpected: bool,
) -> None:
    context = _log_context.get() or getattr(request, _CONTEXT_ATTR, None)
    if context is not None:
        context.code = code


class LogContextMiddleware:
    """Gives every log record of a request its route and error code (with
    ``RequestContextFilter``). Put it right after ``APIErrorsMiddleware``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        else:
            request_started.connect(
                _forget_finished, dispatch_uid="apierrors.logging.forget_finished"
            )
        signals.subscribe(signals.error_response, _remember_code)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        context, token = self.begin(request)
        try:
            return self.get_response(request)
        finally:
            _log_context.reset(token)
            _finished.context = context

    async def __acall__(self, request: HttpRequest) -> Any:
        context, token = self.begin(request)
        try:
            return await self.get_response(request)
        finally:
            _log_context.reset(token)

    @staticmethod
    def begin(request: HttpRequest) -> tuple[RequestLogContext, Token[RequestLogContext | None]]:
        context = RequestLogContext(getattr(request, "request_id", None))
        # Django logs a 4xx/5xx response after the middleware returned: the record carries
        # the request, and the request its context.
        setattr(request, _CONTEXT_ATTR, context)
        return context, _log_context.set(context)

    def process_view(self, request: HttpRequest, *args: Any) -> None:
        context = _log_context.get()
        if context is not None:
            context.route = signals.route_of(request)


class RequestContextFilter(RequestIDFilter):
    """Sets ``request_id``, ``route``, ``error_code`` (``default`` where there is none) and,
    when OpenTelemetry is in use, ``trace_id`` and ``span_id`` on every record.

    ``route`` and ``error_code`` need ``LogContextMiddleware``. The access line of
    ``runserver`` (logger ``django.server``) gets those of the request it describes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        context = _log_context.get() or getattr(request, _CONTEXT_ATTR, None)
        if context is None and record.name == "django.server":
            context = getattr(_finished, "context", None)
        if context is not None:
            if not hasattr(record, "request_id") and context.request_id:
                record.request_id = context.request_id
            # The root's route is "", a route all the same.
            record.route = self.default if context.route is None else context.route
            record.error_code = context.code or self.default
        else:
            record.route = record.error_code = self.default
        super().filter(record)
        trace = sys.modules.get("opentelemetry.trace")  # never imported from here
        if trace is not None:
            span_context = trace.get_current_span().get_span_context()
            if span_context.is_valid:
                record.trace_id = format(span_context.trace_id, "032x")
                record.span_id = format(span_context.span_id, "016x")
        return True


JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id", "route", "error_code")


def json_formatter(**options: Any) -> logging.Formatter:
    """A python-json-logger formatter (``pip install apierrors[jsonlog]``) for ``LOGGING``::

        "formatters": {"json": {"()": "apierrors.logging.json_formatter"}},

    One JSON object per line: ``time``, ``level``, ``logger``, ``message``, ``request_id``,
    ``route``, ``error_code``, and whatever else the record carries (``status_code``,
    ``trace_id``, ``exc_info``...) except Django's request and socket objects. ``options``
    go to ``JsonFormatter``.
    """
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    options.setdefault("fmt", JSON_FIELDS)
    options.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
    options.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time", "taskName"])
    formatter: logging.Formatter = JsonFormatter(**options)
    return formatter

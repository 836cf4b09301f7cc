"""The DRF exception handler: convert, format, respond, report.

Set it as ``REST_FRAMEWORK["EXCEPTION_HANDLER"] = "apierrors.handler.exception_handler"``.
Every exception a DRF view meets becomes one ``ApiError`` (``convert``), that error becomes
the envelope (``format``), the envelope a response (``error_response``, the one builder for
DRF views, ``APIErrorsMiddleware`` and ``apierrors.views``), and anything unexpected is
logged and signalled (``report``) so Sentry and ADMINS mails still see it.

To change a step, subclass ``ExceptionHandler``, override the step and point
``APIERRORS["EXCEPTION_HANDLER_CLASS"]`` at the subclass.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, cast

from django.core.exceptions import (
    ImproperlyConfigured,
    RequestDataTooBig,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.signals import got_request_exception
from django.db import DatabaseError, DataError, connections, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from rest_framework import exceptions as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import set_rollback

from apierrors import conversion, envelope, problem, signals
from apierrors import exceptions as errors
from apierrors.codes import SERVER_ERROR
from apierrors.codes import entry_for_status as entry_for_status  # re-exported
from apierrors.conf import EnvelopeSettings, envelope_settings
from apierrors.conversion import CONCURRENT_RETRY_AFTER as CONCURRENT_RETRY_AFTER  # re-exported
from apierrors.conversion import CSRF_FAILED as CSRF_FAILED  # re-exported
from apierrors.database import is_unique_violation as is_unique_violation  # re-exported
from apierrors.ratelimit.headers import RETRY_AFTER
from apierrors.ratelimit.headers import retry_after_seconds as retry_after_seconds  # re-exported
from apierrors.request_id import generate, get_request_id
from apierrors.response import EnvelopeResponse

logger = logging.getLogger("django.request")

_DRF_ANSWERS = (drf.APIException, Http404, DjangoPermissionDenied)

ENVELOPE_MARKER = "apierrors_envelope"
# On the request: how many atomic blocks each connection had open when it began.
ATOMIC_DEPTH_ATTR = "apierrors_atomic_depth"


class ExceptionHandler:
    """Turns any exception into an envelope response, in small overridable steps.

    Override ``convert`` (or one of its ``convert_*`` helpers) to map a new exception type,
    ``format`` to change the body, ``headers`` for the response's headers and ``report`` to
    change what is logged for unexpected errors.
    """

    # A message the project or DRF wrote is kept; DRF's default sentences of these quote
    # the request (its method, its media type), so the catalogue's sentence replaces them.
    request_quoting_types: tuple[type[drf.APIException], ...] = (
        drf.MethodNotAllowed,
        drf.UnsupportedMediaType,
    )

    def __call__(self, exc: Exception, context: dict[str, Any]) -> HttpResponse:
        request = context.get("request")
        django_request = request._request if isinstance(request, Request) else request
        if not self.drf_answers(exc):
            self.roll_back_atomic_blocks(django_request)
        exc = self.credentials_unstorable(exc, context)
        exc = self.throttle_refused(exc, context)
        error = self.challenged(self.convert(exc), context.get("view"), request)
        logged = self.report_unexpected(exc, error, django_request)
        set_rollback()
        return self.error_response(error, request, logged=logged)

    @staticmethod
    def drf_answers(exc: BaseException) -> bool:
        """Whether DRF's own handler answers ``exc`` (it lets every other exception out)."""
        return isinstance(exc, _DRF_ANSWERS)

    @staticmethod
    def roll_back_atomic_blocks(request: HttpRequest | None) -> None:
        """Mark for rollback the atomic blocks this request opened, on every connection.

        DRF lets an exception it does not answer out of the view, so an atomic block around
        the view (``transaction.atomic`` on ``dispatch`` or above ``@api_view``) rolls back.
        Answering that exception would let the block commit the view's writes instead.
        Blocks open before the request began (a test's own transaction) are not the
        request's: ``APIErrorsMiddleware`` records how many there were.
        """
        opened_before = getattr(request, ATOMIC_DEPTH_ATTR, None) or {}
        for connection in connections.all(initialized_only=True):
            depth = len(connection.atomic_blocks)
            if connection.in_atomic_block and depth > opened_before.get(connection.alias, 0):
                transaction.set_rollback(True, using=connection.alias)

    def django_response(self, exc: BaseException, request: HttpRequest | None) -> HttpResponse:
        """The envelope as a plain Django response, for errors outside DRF views."""
        error = self.challenged(self.convert(exc), None, request)
        logged = self.report_unexpected(exc, error, request)
        return self.error_response(error, request, logged=logged)

    def challenged(
        self, error: errors.ApiError, view: Any, request: Request | HttpRequest | None
    ) -> errors.ApiError:
        """A 401 with its ``WWW-Authenticate`` challenge, or DRF's 403 when there is none.

        A 401 must carry a challenge (RFC 9110). One raised without it (apierrors'
        ``Unauthorized()`` from a permission) takes the view's, as DRF gives its own
        ``NotAuthenticated``; a view whose first authentication class has none answers 403
        FORBIDDEN, DRF's rule, keeping a message the raiser wrote.
        """
        if error.status_code != 401 or "WWW-Authenticate" in error.headers:
            return error
        if view is not None and isinstance(request, Request):
            header = view.get_authenticate_header(request)
            if header:
                error.headers["WWW-Authenticate"] = str(header)
                return error
        message = None if error.message == str(error.default_detail) else error.message
        return errors.Forbidden(message, details=error.details)

    def credentials_unstorable(self, exc: Exception, context: dict[str, Any]) -> Exception:
        """A ``DataError`` while authenticating means the credentials cannot name a user.

        DRF's ``BasicAuthentication`` looks a username up as sent; on PostgreSQL one with a
        NUL byte makes the query itself fail. Such credentials are not valid: 401.
        """
        if not isinstance(exc, DataError):
            return exc
        view, request = context.get("view"), context.get("request")
        if (
            not isinstance(request, Request)
            or "_user" in vars(request)  # DRF sets it once authentication has finished
        ):
            return exc
        refused = drf.AuthenticationFailed()
        if view is not None:
            refused.auth_header = view.get_authenticate_header(request)  # type: ignore[attr-defined]
        return refused

    # Refusals before the throttles -------------------------------------------------------

    # DRF authenticates and checks permissions before it runs the throttles, so a request
    # refused there would reach the client without X-RateLimit-* headers, and a client
    # could try bad credentials without limit.
    refused_before_throttles: tuple[type[Exception], ...] = (
        drf.NotAuthenticated,
        drf.AuthenticationFailed,
        drf.PermissionDenied,
        errors.Unauthorized,
        errors.TokenExpired,
        errors.InvalidScope,
        errors.Forbidden,
    )

    def throttle_refused(self, exc: Exception, context: dict[str, Any]) -> Exception:
        """Run the view's apierrors throttles for a request refused before they ran.

        The refused request is counted like any other, so its answer carries the
        rate-limit headers, and a client past its limit is answered 429 instead of 401/403.
        Views throttled by other classes are left as DRF leaves them.
        """
        if not isinstance(exc, self.refused_before_throttles):
            return exc
        view, request = context.get("view"), context.get("request")
        if view is None or not isinstance(request, Request):
            return exc
        from apierrors.throttling import CHECKED_ATTR, RateLimitThrottle

        if getattr(request._request, CHECKED_ATTR, False):
            return exc  # the throttles ran already (a refusal from inside the view)
        # Classes first: instantiating another package's throttle can itself raise (DRF's
        # SimpleRateThrottle without a rate), which must not turn a 401 into a 500.
        classes = getattr(view, "throttle_classes", None) or ()
        if not classes or not all(
            isinstance(cls, type) and issubclass(cls, RateLimitThrottle) for cls in classes
        ):
            return exc
        try:
            view.check_throttles(request)
        except drf.Throttled as throttled:
            return throttled
        except (errors.ServiceUnavailable, ImproperlyConfigured):
            # A store outage with FAIL_OPEN off, or a throttle ``get_throttles()`` adds that
            # is misconfigured: the refusal still stands as it was.
            return exc
        return exc

    # Convert -----------------------------------------------------------------------------

    def convert(self, exc: BaseException) -> errors.ApiError:
        """Map any exception onto an ``ApiError``."""
        if isinstance(exc, errors.ApiError):
            return exc
        if isinstance(exc, drf.APIException):
            return self.convert_drf(exc)
        return self.convert_django(exc)

    def convert_drf(self, exc: drf.APIException) -> errors.ApiError:
        return conversion.drf_error(self, exc)

    def kept_message(self, exc: drf.APIException) -> str | None:
        """The exception's message, unless it is DRF's default sentence that quotes the
        request (``Method "BREW" not allowed.``) or names nothing a client can use (DRF's
        ``Request was throttled.``, which the contract's 429 sentence replaces); ``None``
        means the catalogue's sentence."""
        return conversion.kept_message(self, exc)

    def error_for_status(self, status: int) -> errors.ApiError:
        """The error of a response with ``status`` that carries no code (a Django error page
        that ``APIErrorsMiddleware`` replaces): the code standing for it, with that status."""
        return errors.class_for_code(entry_for_status(status).code)(status=status)

    def convert_django(self, exc: BaseException) -> errors.ApiError:
        return conversion.django_error(self, exc)

    def convert_database(self, exc: DatabaseError) -> errors.ApiError:
        """Database errors a client can cause are its answer, never a 500 (``database``).

        A deadlock or serialization failure is worth sending again: it carries Retry-After.
        The failed transaction is rolled back before the answer leaves: an atomic block the
        error left has rolled back already, and ``ATOMIC_REQUESTS`` is rolled back when the
        view returns (``__call__`` marks it).
        """
        return conversion.database_error(exc)

    def convert_bad_request(self, exc: BaseException | None) -> errors.ApiError:
        """400 for a request Django refuses (``BadRequest``, ``SuspiciousOperation``), 413
        for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
        if isinstance(exc, RequestDataTooBig):
            return errors.PayloadTooLarge()
        return errors.BadRequest()

    def convert_validation(self, detail: Any, status: int | None = None) -> errors.ApiError:
        """A validation tree becomes one error whose ``details`` list every problem, of the
        class of the problems' shared code (VALIDATION_ERROR's when they differ).

        ``status`` is the raised exception's own when it is not DRF's 400 (a
        ``ValidationError`` subclass with ``status_code = 409``, another package's
        exception with a dict detail): it is kept, with the code of that status.
        """
        return conversion.validation_error(detail, status)

    @staticmethod
    def plain_message(exc: drf.APIException) -> str | None:
        """The exception's detail when it is one sentence, else ``None`` (the default).

        simplejwt and other packages put dicts and lists in ``detail``; flattening those
        into the message produces nonsense, so they fall back to the catalogue's sentence.
        """
        detail = exc.detail
        if isinstance(detail, str) and detail:
            return str(detail)
        return None

    # Report ------------------------------------------------------------------------------

    def is_unexpected(self, exc: BaseException, error: errors.ApiError) -> bool:
        """Whether ``exc`` is a failure nobody raised on purpose (a bug, an outage)."""
        return not isinstance(exc, drf.APIException) and error.code == SERVER_ERROR.code

    def report(self, exc: BaseException, request: HttpRequest | None) -> None:
        """Log with the traceback and send ``got_request_exception`` (Sentry, ADMINS mail)."""
        logger.error(
            "Internal Server Error: %s",
            printable(request.path) if request is not None else "-",
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"status_code": 500, "request": request},
        )
        got_request_exception.send(sender=None, request=request)

    def report_unexpected(
        self, exc: BaseException, error: errors.ApiError, request: HttpRequest | None
    ) -> bool:
        """``report`` an unexpected ``exc``; whether it was reported."""
        unexpected = self.is_unexpected(exc, error)
        if unexpected:
            self.report(exc, request)
        return unexpected

    # Format and respond --------------------------------------------------------------------

    def request_id(self, request: HttpRequest | None) -> str:
        """This request's id: the middleware's, else the context's, else a new one."""
        value = getattr(request, "request_id", None) or get_request_id()
        if value is None:
            value = generate()
            if request is not None:
                request.request_id = value  # type: ignore[attr-defined]
        return str(value)

    def format(self, error: errors.ApiError, request: HttpRequest | None) -> dict[str, Any]:
        """The envelope of ``error``."""
        return envelope.for_error(error, request_id=self.request_id(request))

    def headers(self, error: errors.ApiError, body: dict[str, Any]) -> dict[str, str]:
        """The error's own headers, with ``Retry-After`` and the request id header taken
        from the body, so that they are always the same as ``retryAfter`` and ``requestId``.

        The request id header is left to ``APIErrorsMiddleware`` when the body's id is the
        one it is handling (the context's): it sends that header on every response, after
        the handler, so setting it here too would only be undone.
        """
        headers = dict(error.headers) if error.headers else {}
        fields = body.get("error") or {}
        retry_after = fields.get("retryAfter")
        if retry_after is not None:
            headers[RETRY_AFTER] = str(retry_after)
        request_id = fields.get("requestId")
        if request_id and request_id != get_request_id():
            headers.setdefault(envelope_settings().request_id_header, str(request_id))
        return headers

    def error_response(
        self,
        error: errors.ApiError,
        request: Request | HttpRequest | None,
        *,
        logged: bool = False,
    ) -> HttpResponse:
        """The response to ``error``: a DRF ``Response`` rendered as JSON for a DRF request,
        a ``JsonResponse`` otherwise; problem details instead when asked for (``problem``).

        ``logged`` says the error was reported already, so Django does not log it again.
        """
        drf_request = isinstance(request, Request)
        django_request = request._request if drf_request else request  # type: ignore[union-attr]
        body = self.format(error, django_request)
        headers = self.headers(error, body)
        status = error.status_code
        problem_details = envelope_settings().problem_details
        content_type = problem.JSON_MEDIA_TYPE
        if problem_details:
            body, content_type = problem.negotiate(body, status, django_request)
        response: HttpResponse
        if drf_request:
            response = EnvelopeResponse(
                body, status=status, headers=headers, content_type=content_type
            )
            renderer = getattr(request, "accepted_renderer", None)
            # The envelope is JSON whatever was negotiated (the browsable API, a 406).
            if renderer is None or "json" not in str(getattr(renderer, "media_type", "")):
                request.accepted_renderer = JSONRenderer()  # type: ignore[union-attr]
                request.accepted_media_type = "application/json"  # type: ignore[union-attr]
        else:
            response = JsonResponse(body, status=status, content_type=content_type)
            for name, value in headers.items():
                response[name] = value
        if problem_details:
            problem.vary_on_accept(response)
        signals.send_error_response(
            self, response, error, django_request, unexpected=logged or None
        )
        mark(response, logged=logged)
        return response

    @staticmethod
    def django_request(request: Request | HttpRequest | None) -> HttpRequest | None:
        if isinstance(request, Request):
            return request._request
        return request


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``), so that a path cannot
    forge a log line or a terminal sequence."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def mark(response: HttpResponse, *, logged: bool = False) -> None:
    """Flag a response as an envelope (and, for reported 500s, as already logged)."""
    setattr(response, ENVELOPE_MARKER, True)
    if logged:
        # Django's handler logs every >= 400 response once more unless told it was logged.
        response._has_been_logged = True  # type: ignore[attr-defined]


def is_envelope(response: HttpResponse) -> bool:
    return bool(getattr(response, ENVELOPE_MARKER, False))


@lru_cache(maxsize=8)
def _load(path: str) -> ExceptionHandler:
    return cast(ExceptionHandler, import_string(path)())


_current: tuple[EnvelopeSettings, ExceptionHandler] | None = None


def get_handler() -> ExceptionHandler:
    """The configured ``ExceptionHandler`` instance (``APIERRORS["EXCEPTION_HANDLER_CLASS"]``)."""
    global _current
    settings = envelope_settings()
    current = _current
    if current is None or current[0] is not settings:
        current = _current = (settings, _load(settings.exception_handler_class))
    return current[1]


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    """DRF's ``EXCEPTION_HANDLER`` entry point."""
    return get_handler()(exc, context)

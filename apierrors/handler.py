"""The DRF exception handler: convert, format, respond, report.

Set it as ``REST_FRAMEWORK["EXCEPTION_HANDLER"] = "apierrors.handler.exception_handler"``.
Every exception a DRF view meets becomes one ``ApiError`` (``convert``), that error becomes
the envelope (``format``), the envelope a response (``build_response``), and anything
unexpected is logged and signalled (``report``) so Sentry and ADMINS mails still see it.

To change a step, subclass ``ExceptionHandler``, override the step and point
``APIERRORS["EXCEPTION_HANDLER_CLASS"]`` at the subclass.
"""

from __future__ import annotations

import logging
import math
from functools import lru_cache
from typing import Any, cast

from django.core.exceptions import (
    BadRequest,
    ImproperlyConfigured,
    ObjectDoesNotExist,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework.fields import get_error_detail
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apierrors import codes, envelope, problem, signals
from apierrors import exceptions as errors
from apierrors.conf import conf
from apierrors.request_id import generate, get_request_id

logger = logging.getLogger("django.request")

ENVELOPE_MARKER = "apierrors_envelope"

_PARSE_ERROR = _("The request body could not be parsed.")
_TOO_BIG = _("The request body is too large.")
_BAD_REQUEST = _("The request is not valid.")
_UNSTORABLE = _("The request holds a value that cannot be stored.")
CSRF_FAILED = _("CSRF verification failed. Send the CSRF cookie and token with the request.")

# Statuses of errors that are not ours (a third-party APIException, a plain Django error
# page) mapped onto the catalogue; other 4xx become VALIDATION_ERROR, other 5xx SERVER_ERROR.
STATUS_CODES: dict[int, codes.ErrorCode] = {
    400: codes.VALIDATION_ERROR,
    401: codes.UNAUTHORIZED,
    403: codes.FORBIDDEN,
    404: codes.RESOURCE_NOT_FOUND,
    405: codes.METHOD_NOT_ALLOWED,
    406: codes.NOT_ACCEPTABLE,
    409: codes.RESOURCE_CONFLICT,
    415: codes.UNSUPPORTED_MEDIA_TYPE,
    422: codes.VALIDATION_ERROR,
    429: codes.RATE_LIMIT_EXCEEDED,
    503: codes.SERVICE_UNAVAILABLE,
}


def entry_for_status(status: int) -> codes.ErrorCode:
    """The catalogue entry that best names an arbitrary HTTP error status."""
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    return codes.SERVER_ERROR if status >= 500 else codes.VALIDATION_ERROR


def retry_after_seconds(wait: float | None) -> int:
    """Whole seconds, rounded up, at least 1 (DRF's ``wait()`` may be ``None`` or 0.2)."""
    if wait is None or math.isnan(wait):
        return 1
    return max(1, math.ceil(wait))


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a database error is a unique-constraint violation (PostgreSQL, SQLite, MySQL)."""
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    args = getattr(cause, "args", ()) or exc.args
    if args and args[0] == 1062:  # MySQL / MariaDB ER_DUP_ENTRY
        return True
    text = str(exc)
    return text.startswith("UNIQUE constraint failed") or "Duplicate entry" in text


class ExceptionHandler:
    """Turns any exception into an envelope response, in small overridable steps.

    Override ``convert`` (or one of its ``convert_*`` helpers) to map a new exception type,
    ``format`` to change the body, ``build_response`` for headers and ``report`` to change
    what is logged for unexpected errors.
    """

    # DRF's PermissionDenied/NotFound messages are set by the project (a permission's
    # ``message``, ``NotFound("...")``) and kept; these are produced from client input or
    # exception text, so the catalogue's own sentence replaces them.
    generic_message_types: tuple[type[drf.APIException], ...] = (
        drf.MethodNotAllowed,
        drf.NotAcceptable,
        drf.UnsupportedMediaType,
    )

    def __call__(self, exc: Exception, context: dict[str, Any]) -> Response:
        request = context.get("request")
        django_request = self.django_request(request)
        exc = self.credentials_unstorable(exc, context)
        exc = self.throttle_refused(exc, context)
        error = self.convert(exc)
        unexpected = self.is_unexpected(exc, error)
        if unexpected:
            self.report(exc, django_request)
        set_rollback()
        body = self.format(error, django_request)
        response = self.build_response(error, body, request)
        signals.send_error_response(self, response, error, django_request, exc, unexpected)
        mark(response, logged=unexpected)
        return response

    def credentials_unstorable(self, exc: Exception, context: dict[str, Any]) -> Exception:
        """A ``DataError`` while authenticating means the credentials cannot name a user.

        DRF's ``BasicAuthentication`` looks a username up as sent; on PostgreSQL one with a
        NUL byte makes the query itself fail. Such credentials are not valid: 401.
        """
        view, request = context.get("view"), context.get("request")
        if (
            not isinstance(exc, DataError)
            or not isinstance(request, Request)
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
        error: errors.ApiError
        if isinstance(exc, drf.ValidationError):
            return self.convert_validation(exc.detail)
        if isinstance(exc, drf.ParseError):
            error = errors.ValidationError(_PARSE_ERROR)
            error.status_code = 400
            return error
        if isinstance(exc, drf.Throttled):
            return errors.RateLimitExceeded(
                retry_after=retry_after_seconds(getattr(exc, "wait", None))
            )
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            error = errors.Unauthorized(self.plain_message(exc))
            auth_header = getattr(exc, "auth_header", None)
            if auth_header:
                error.headers["WWW-Authenticate"] = str(auth_header)
            return error
        if isinstance(exc, drf.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
            # SessionAuthentication's message quotes Django's reason, which can quote the
            # request's Origin or Referer header back.
            return errors.Forbidden(CSRF_FAILED)
        if isinstance(exc, self.generic_message_types):
            entry = entry_for_status(exc.status_code)
            return errors.class_for_code(entry.code)()
        entry = entry_for_status(exc.status_code)
        message = None if exc.status_code >= 500 else self.plain_message(exc)
        error = errors.class_for_code(entry.code)(message)
        error.status_code = exc.status_code
        wait = getattr(exc, "wait", None)
        if wait is not None:
            error.retry_after = retry_after_seconds(wait)
        return error

    def convert_django(self, exc: BaseException) -> errors.ApiError:
        if isinstance(exc, Http404 | ObjectDoesNotExist):
            return errors.ResourceNotFound()
        if isinstance(exc, DjangoPermissionDenied):
            return errors.Forbidden()
        if isinstance(exc, DjangoValidationError):
            return self.convert_validation(get_error_detail(exc))
        if isinstance(exc, ProtectedError | RestrictedError):
            return errors.ResourceConflict()
        if isinstance(exc, IntegrityError) and is_unique_violation(exc):
            return errors.DuplicateResource()
        if isinstance(exc, DataError):
            # The database refused a value the request carried and nothing validated: a NUL
            # byte in text on PostgreSQL, a number out of a column's range.
            error = errors.ValidationError(_UNSTORABLE)
            error.status_code = 400
            return error
        if isinstance(exc, SuspiciousOperation):
            # Django logs these to django.security.* when it handles them; here it does not.
            logging.getLogger(f"django.security.{exc.__class__.__name__}").error(
                "%s", exc.__class__.__name__
            )
            return self.convert_bad_request(exc)
        if isinstance(exc, BadRequest):
            return self.convert_bad_request(exc)
        return errors.ServerError()

    def convert_bad_request(self, exc: BaseException | None) -> errors.ApiError:
        """400 for a request Django refuses (``BadRequest``, ``SuspiciousOperation``), 413
        for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
        too_big = isinstance(exc, RequestDataTooBig)
        error = errors.ValidationError(_TOO_BIG if too_big else _BAD_REQUEST)
        error.status_code = 413 if too_big else 400
        return error

    def convert_validation(self, detail: Any) -> errors.ApiError:
        """A validation tree becomes one error whose ``details`` list every problem."""
        problems = envelope.flatten(detail)
        if not problems:
            return errors.ValidationError()
        code, status, message = envelope.summarize(problems)
        error_class: type[errors.ApiError] = errors.ValidationError
        if code in codes.CATALOGUE:
            error_class = errors.class_for_code(code)
        error = error_class(message, details=envelope.bounded(problems, code))
        if error.code != code:
            error.default_code = code
        error.status_code = status
        return error

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
        return not isinstance(exc, drf.APIException) and error.code == codes.SERVER_ERROR.code

    def report(self, exc: BaseException, request: HttpRequest | None) -> None:
        """Log with the traceback and send ``got_request_exception`` (Sentry, ADMINS mail)."""
        logger.error(
            "Internal Server Error: %s",
            request.path if request is not None else "-",
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"status_code": 500, "request": request},
        )
        got_request_exception.send(sender=None, request=request)

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
        return envelope.build(
            code=error.code,
            message=error.message,
            request_id=self.request_id(request),
            details=error.details,
            retry_after=self.retry_after(error),
        )

    @staticmethod
    def retry_after(error: errors.ApiError) -> int | None:
        if error.retry_after is not None:
            return max(1, int(error.retry_after))
        if error.status_code == 429:
            return 1
        return None

    def headers(self, error: errors.ApiError, request: HttpRequest | None) -> dict[str, str]:
        headers = dict(error.headers)
        retry_after = self.retry_after(error)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        headers.setdefault(conf.REQUEST_ID_HEADER, self.request_id(request))
        return headers

    def build_response(
        self, error: errors.ApiError, body: dict[str, Any], request: Request | None
    ) -> Response:
        django_request = self.django_request(request)
        body, content_type = problem.negotiate(body, error.status_code, django_request)
        response = Response(
            body,
            status=error.status_code,
            headers=self.headers(error, django_request),
            content_type=content_type,
        )
        problem.vary_on_accept(response)
        if request is not None:
            renderer = getattr(request, "accepted_renderer", None)
            # The envelope is JSON whatever was negotiated (the browsable API, a 406).
            if renderer is None or "json" not in str(getattr(renderer, "media_type", "")):
                request.accepted_renderer = JSONRenderer()
                request.accepted_media_type = "application/json"
        return response

    def django_response(self, exc: BaseException, request: HttpRequest | None) -> HttpResponse:
        """The envelope as a plain Django response, for errors outside DRF views."""
        error = self.convert(exc)
        unexpected = self.is_unexpected(exc, error)
        if unexpected:
            self.report(exc, request)
        response = self.error_response(error, request)
        mark(response, logged=unexpected)
        return response

    def error_response(self, error: errors.ApiError, request: HttpRequest | None) -> HttpResponse:
        body, content_type = problem.negotiate(
            self.format(error, request), error.status_code, request
        )
        response = JsonResponse(body, status=error.status_code, content_type=content_type)
        for name, value in self.headers(error, request).items():
            response[name] = value
        problem.vary_on_accept(response)
        signals.send_error_response(self, response, error, request)
        mark(response)
        return response

    @staticmethod
    def django_request(request: Request | HttpRequest | None) -> HttpRequest | None:
        if isinstance(request, Request):
            return request._request
        return request


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


def get_handler() -> ExceptionHandler:
    """The configured ``ExceptionHandler`` instance (``APIERRORS["EXCEPTION_HANDLER_CLASS"]``)."""
    return _load(conf.EXCEPTION_HANDLER_CLASS)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER`` entry point."""
    return get_handler()(exc, context)

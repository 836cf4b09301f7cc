"""How ``ExceptionHandler`` converts exceptions: DRF's, Django's and the database's.

Each function takes the handler, so that the steps a project overrides on its subclass
(``convert_validation``, ``kept_message``, ``plain_message``, ``convert_database``,
``convert_bad_request``) are the ones called. ``ExceptionHandler``'s ``convert_*``
methods delegate here; override those, not these.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import (
    BadRequest,
    ObjectDoesNotExist,
    SuspiciousOperation,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework.fields import get_error_detail

from apierrors import envelope
from apierrors import exceptions as errors
from apierrors import translated as translated_module
from apierrors.codes import entry_for_status
from apierrors.database import Conflict, classify
from apierrors.ratelimit.headers import retry_after_seconds
from apierrors.translated import translated

if TYPE_CHECKING:
    from apierrors.handler import ExceptionHandler

PARSE_ERROR = _("The request body could not be parsed.")
# DRF's MultiPartParser prefixes Django's messages, which quote the request's boundary.
MULTIPART_PREFIX = "Multipart form parse error"
UNSTORABLE = _("The request holds a value that cannot be stored.")
REFERENCE_CONFLICT = _("The request refers to a resource that does not exist or is still in use.")
CONCURRENT_CONFLICT = _("The request conflicted with a concurrent one. Please retry.")
# A deadlock or serialization failure is over once the winning transaction commits: soon.
CONCURRENT_RETRY_AFTER = 1
CSRF_FAILED = _("CSRF verification failed. Send the CSRF cookie and token with the request.")


def is_default(cls: type[drf.APIException], message: str) -> bool:
    """Whether ``message`` is ``cls``'s default sentence, whatever it quotes in its
    ``{placeholder}``."""
    head, _sep, rest = str(cls.default_detail).partition("{")
    tail = rest.partition("}")[2]
    return message.startswith(head) and message.endswith(tail) and len(message) >= len(head + tail)


_CLASS_FOR_STATUS: dict[int, type[errors.ApiError]] = {}


def class_for_status(status: int) -> type[errors.ApiError]:
    """The class of the code that names an error of ``status`` carrying no code of its own
    (``entry_for_status``), looked up once per status: the catalogue does not change."""
    cls = _CLASS_FOR_STATUS.get(status)
    if cls is None:
        cls = _CLASS_FOR_STATUS[status] = errors.class_for_code(entry_for_status(status).code)
    return cls


def drf_error(handler: ExceptionHandler, exc: drf.APIException) -> errors.ApiError:
    """A DRF exception's error."""
    if isinstance(exc, drf.ValidationError):
        return handler.convert_validation(exc.detail, status=exc.status_code)
    if isinstance(exc, drf.ParseError):
        return errors.ValidationError(handler.kept_message(exc) or PARSE_ERROR, status=400)
    if isinstance(exc, drf.Throttled):
        # DRF's sentence is recognized, and ours written, in the language read once.
        translated_module.begin_scope()
        try:
            return errors.RateLimitExceeded(
                handler.kept_message(exc),
                retry_after=retry_after_seconds(getattr(exc, "wait", None)),
            )
        finally:
            translated_module.end_scope()
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        auth_header = getattr(exc, "auth_header", None)
        if not auth_header:
            # DRF's own rule: without a challenge to send, refusing is a 403.
            return errors.Forbidden(handler.plain_message(exc))
        return errors.Unauthorized(
            handler.plain_message(exc), headers={"WWW-Authenticate": str(auth_header)}
        )
    if isinstance(exc, drf.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        # SessionAuthentication's message quotes Django's reason, which can quote the
        # request's Origin or Referer header back.
        return errors.Forbidden(CSRF_FAILED)
    status = exc.status_code
    error_class = class_for_status(status)
    if status >= 500:
        return error_class(status=status)
    detail = exc.detail
    if not isinstance(detail, str) and isinstance(detail, Mapping | list):
        # A detail of fields (``APIException({"slug": ["taken"]})``) is answered like a
        # validation error, with the code that stands for the exception's status.
        return handler.convert_validation(exc.detail, status=status)
    wait = getattr(exc, "wait", None)
    return error_class(
        handler.kept_message(exc),
        status=status,
        retry_after=None if wait is None else retry_after_seconds(wait),
    )


def _throttled_default() -> str:
    return str(drf.Throttled.default_detail)


def kept_message(handler: ExceptionHandler, exc: drf.APIException) -> str | None:
    """``ExceptionHandler.kept_message``: see its docstring."""
    message = handler.plain_message(exc)
    if message is None:
        return None
    quoting_types = handler.request_quoting_types
    if isinstance(exc, quoting_types):
        for quoting in quoting_types:
            if isinstance(exc, quoting) and is_default(quoting, message):
                return None
    if isinstance(exc, drf.Throttled) and message.startswith(
        translated("drf.Throttled", _throttled_default)
    ):
        return None
    if isinstance(exc, drf.ParseError) and message.startswith(MULTIPART_PREFIX):
        return None  # Django's multipart messages quote the boundary and Content-Type
    return message


def django_error(handler: ExceptionHandler, exc: BaseException) -> errors.ApiError:
    """A Django exception's error (a database one's through ``convert_database``)."""
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return errors.ResourceNotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return errors.Forbidden()
    if isinstance(exc, DjangoValidationError):
        return handler.convert_validation(get_error_detail(exc))
    if isinstance(exc, ProtectedError | RestrictedError):
        return errors.ResourceConflict()
    if isinstance(exc, DatabaseError):
        return handler.convert_database(exc)
    if isinstance(exc, SuspiciousOperation):
        # Django logs these to django.security.* when it handles them; here it does not.
        logging.getLogger(f"django.security.{exc.__class__.__name__}").error(
            "%s", exc.__class__.__name__
        )
        return handler.convert_bad_request(exc)
    if isinstance(exc, BadRequest):
        return handler.convert_bad_request(exc)
    return errors.ServerError()


def database_error(exc: DatabaseError) -> errors.ApiError:
    """``ExceptionHandler.convert_database``: see its docstring."""
    kind = classify(exc)
    if kind is Conflict.UNIQUE:
        return errors.DuplicateResource()
    if kind is Conflict.FOREIGN_KEY:
        return errors.ResourceConflict(REFERENCE_CONFLICT)
    if kind is Conflict.RETRYABLE:
        return errors.ResourceConflict(CONCURRENT_CONFLICT, retry_after=CONCURRENT_RETRY_AFTER)
    if isinstance(exc, DataError):
        # The database refused a value the request carried and nothing validated: a NUL
        # byte in text on PostgreSQL, a number out of a column's range.
        return errors.ValidationError(UNSTORABLE, status=400)
    return errors.ServerError()


def validation_error(detail: Any, status: int | None = None) -> errors.ApiError:
    """``ExceptionHandler.convert_validation``: see its docstring."""
    code, message, details = envelope.validation(detail)
    error_class = errors.find_class(code)
    own_status = status not in (None, drf.ValidationError.status_code)
    if own_status and (error_class is None or int(error_class.status_code) != status):
        entry = entry_for_status(int(status or 0))
        if len(details) != 1:
            message = str(entry.message)
        return errors.class_for_code(entry.code)(message, details=details, status=status)
    if error_class is None:  # a FIELD_CODES value that no class declares
        return errors.ValidationError(message, details=details, code=code)
    return error_class(message, details=details)

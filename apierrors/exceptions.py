"""Exceptions: ``ApiError`` and one subclass per catalogue code.

Raise them from views, serializers, permissions or services::

    raise ResourceNotFound(f"Campaign {pk} does not exist.")
    raise RateLimitExceeded(retry_after=30)
    raise InvalidOperator(details=[FieldProblem("rules.all[1].operator", "INVALID_OPERATOR", msg)])

A project declares a code of its own by subclassing ``ApiError`` with DRF's usual class
attributes (``status_code``, ``default_code``, ``default_detail``)::

    class QuotaExhausted(ApiError):
        status_code = 402
        default_code = "QUOTA_EXHAUSTED"
        default_detail = _("Your plan's quota is used up.")

Every subclass is registered; the system check ``apierrors.E006`` refuses two classes that
claim one code with different statuses. ``find_class(code)`` is the one lookup of the class
behind a code, the catalogue's first, then the project's.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import ngettext
from rest_framework.exceptions import APIException, ErrorDetail

from apierrors import codes
from apierrors.codes import ErrorCode
from apierrors.translated import translated


@dataclass(frozen=True)
class FieldProblem:
    """One entry of the envelope's ``details``: a problem tied to a field (or to none)."""

    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


_registry: weakref.WeakSet[type[ApiError]] = weakref.WeakSet()


class ApiError(APIException):
    """The base of every error apierrors answers.

    A catalogue subclass names its entry with ``error = codes.SOME_CODE``, from which
    ``status_code``, ``default_code`` (the wire code) and ``default_detail`` are taken. A
    project's own subclass sets those three attributes itself. ``message`` overrides the
    default sentence; ``details``, ``retry_after`` and ``headers`` are optional.

    ``status`` and ``code`` answer one error with another status or code than its class
    declares; the handler alone needs them: VALIDATION_ERROR answers 400 for a body that
    cannot be parsed, another package's 418 is VALIDATION_ERROR with 418, and a
    ``FIELD_CODES`` value that no class declares is still sent as the code.
    """

    error: ClassVar[ErrorCode | None] = None
    status_code = codes.SERVER_ERROR.status
    default_code = codes.SERVER_ERROR.code
    default_detail = codes.SERVER_ERROR.message  # type: ignore[assignment]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        entry = cls.__dict__.get("error")
        if entry is not None:
            cls.status_code = entry.status
            cls.default_code = entry.code
            cls.default_detail = entry.message
        _registry.add(cls)

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        details: Iterable[FieldProblem] | None = None,
        retry_after: int | None = None,
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        if status is not None:
            self.status_code = status
        if code is not None:
            self.default_code = code
        self.details: list[FieldProblem] = list(details) if details else []
        self.retry_after = retry_after
        self.headers: dict[str, str] = dict(headers) if headers else {}
        if message is None:
            message = self.default_message()
        if type(message) is str:
            # What APIException.__init__ makes of a plain sentence, without its walk.
            self.detail = ErrorDetail(message, self.default_code)
        else:
            super().__init__(detail=message, code=self.default_code)  # type: ignore[arg-type]

    def default_message(self) -> str | Promise | None:
        """The message when the raiser gives none; ``None`` means ``default_detail``.

        Override it for a sentence built from the error itself (its ``retry_after``)."""
        return None

    @property
    def code(self) -> str:
        """The wire code, e.g. ``"RESOURCE_NOT_FOUND"``."""
        return str(self.default_code)

    @property
    def message(self) -> str:
        return str(self.detail)


def registered_classes() -> list[type[ApiError]]:
    """Every ``ApiError`` subclass defined so far, built-in or the project's."""
    return sorted(_registry, key=lambda cls: (cls.__module__, cls.__qualname__))


def find_class(code: str) -> type[ApiError] | None:
    """The class that answers ``code``: the catalogue's own, else the first of the project's
    classes that claims it; ``None`` when no class does."""
    built_in = _BY_CODE.get(code)
    if built_in is not None:
        return built_in
    return next((cls for cls in _registry if cls.default_code == code), None)


def class_for_code(code: str) -> type[ApiError]:
    """``find_class`` for a code that must be known (``KeyError`` when no class claims it)."""
    cls = find_class(code)
    if cls is None:
        raise KeyError(code)
    return cls


def status_for_code(code: str) -> int | None:
    """The HTTP status of ``find_class(code)``, ``None`` for a code no class claims."""
    cls = find_class(code)
    return None if cls is None else int(cls.status_code)


# Authentication
class Unauthorized(ApiError):
    error = codes.UNAUTHORIZED


class Forbidden(ApiError):
    error = codes.FORBIDDEN


class TokenExpired(ApiError):
    error = codes.TOKEN_EXPIRED


class InvalidScope(ApiError):
    error = codes.INVALID_SCOPE


# Resource
class ResourceNotFound(ApiError):
    error = codes.RESOURCE_NOT_FOUND


class DuplicateResource(ApiError):
    error = codes.DUPLICATE_RESOURCE


class ResourceConflict(ApiError):
    error = codes.RESOURCE_CONFLICT


# Validation
class ValidationError(ApiError):
    error = codes.VALIDATION_ERROR


class InvalidField(ApiError):
    error = codes.INVALID_FIELD


class MissingField(ApiError):
    error = codes.MISSING_FIELD


class InvalidFormat(ApiError):
    error = codes.INVALID_FORMAT


# Segment
class InvalidSegmentRule(ApiError):
    error = codes.INVALID_SEGMENT_RULE


class UnknownField(ApiError):
    error = codes.UNKNOWN_FIELD


class InvalidOperator(ApiError):
    error = codes.INVALID_OPERATOR


# Campaign
class CampaignAlreadyActive(ApiError):
    error = codes.CAMPAIGN_ALREADY_ACTIVE


class CampaignNotScheduled(ApiError):
    error = codes.CAMPAIGN_NOT_SCHEDULED


class SegmentRequired(ApiError):
    error = codes.SEGMENT_REQUIRED


class InvalidSchedule(ApiError):
    error = codes.INVALID_SCHEDULE


# Social
class ConnectionExpired(ApiError):
    error = codes.CONNECTION_EXPIRED


class PublishingFailed(ApiError):
    error = codes.PUBLISHING_FAILED


class RateLimitExceeded(ApiError):
    """429. With ``retry_after`` and no message, the message says how long to wait."""

    error = codes.RATE_LIMIT_EXCEEDED

    def default_message(self) -> str | None:
        seconds = self.retry_after
        if seconds is None:
            return None
        return translated(("RATE_LIMIT_EXCEEDED", seconds), partial(_retry_after_message, seconds))


def _retry_after_message(seconds: int) -> str:
    return ngettext(
        "Too many requests. Please retry after %(seconds)d second.",
        "Too many requests. Please retry after %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}


class ContentRejected(ApiError):
    error = codes.CONTENT_REJECTED


# Protocol and server
class MethodNotAllowed(ApiError):
    error = codes.METHOD_NOT_ALLOWED


class NotAcceptable(ApiError):
    error = codes.NOT_ACCEPTABLE


class UnsupportedMediaType(ApiError):
    error = codes.UNSUPPORTED_MEDIA_TYPE


class BadRequest(ApiError):
    error = codes.BAD_REQUEST


class PaymentRequired(ApiError):
    error = codes.PAYMENT_REQUIRED


class Gone(ApiError):
    error = codes.GONE


class PreconditionFailed(ApiError):
    error = codes.PRECONDITION_FAILED


class PayloadTooLarge(ApiError):
    error = codes.PAYLOAD_TOO_LARGE


class Locked(ApiError):
    error = codes.LOCKED


class PreconditionRequired(ApiError):
    error = codes.PRECONDITION_REQUIRED


class HttpError(ApiError):
    """The error of a status no other code stands for; raised with ``status=``."""

    error = codes.HTTP_ERROR


class ServerError(ApiError):
    error = codes.SERVER_ERROR


class ServiceUnavailable(ApiError):
    error = codes.SERVICE_UNAVAILABLE


_BY_CODE: dict[str, type[ApiError]] = {
    cls.default_code: cls
    for cls in list(_registry)
    if cls.__module__ == __name__ and cls.__dict__.get("error") is not None
}

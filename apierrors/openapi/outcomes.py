"""What an operation can answer: ``Outcome`` and the outcomes several sources share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from rest_framework.authentication import BaseAuthentication
from rest_framework.settings import api_settings

from apierrors import codes
from apierrors import exceptions as errors
from apierrors.docs import describe, example_error
from apierrors.openapi.components import WWW_AUTHENTICATE
from apierrors.ratelimit.headers import RETRY_AFTER

# The one class of apierrors' simplejwt support, named so that it is not imported here.
JWT_AUTHENTICATION = "apierrors.contrib.simplejwt.JWTAuthentication"


@dataclass(frozen=True)
class Outcome:
    """One error an operation can answer: an example of it, the headers it carries and, when
    the code's general description is not enough, what triggers it here."""

    error: errors.ApiError
    headers: tuple[str, ...] = ()
    note: str | None = None

    @property
    def status(self) -> int:
        return int(self.error.status_code)

    @property
    def code(self) -> str:
        return self.error.code

    def description(self) -> str:
        """One line of the response's description: the code and what it means here."""
        text = self.note or describe(type(self.error))
        return f"`{self.code}`: {text}"


def known_codes() -> list[str]:
    """Every code the API can answer: the catalogue's, then the project's, sorted."""
    project = sorted(
        {str(cls.default_code) for cls in errors.registered_classes()} - set(codes.CATALOGUE)
    )
    return [*codes.CATALOGUE, *project]


def code_order(code: str, order: Sequence[str]) -> tuple[int, str]:
    """Sort key: a code's place in ``order``, codes not in it last and alphabetically."""
    return (order.index(code) if code in order else len(order), code)


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def inherits(cls: type, dotted: str) -> bool:
    """Whether ``cls`` is, or inherits from, the class at the dotted path ``dotted``."""
    return any(class_path(base) == dotted for base in cls.__mro__)


def challenges(authenticator_class: type) -> bool:
    """Whether the class answers ``authenticate_header()`` (DRF's base class does not)."""
    method = getattr(authenticator_class, "authenticate_header", None)
    return method is not None and method is not BaseAuthentication.authenticate_header


NO_CHALLENGE = (
    "No credentials, or credentials that are not valid: the first authentication class sends "
    "no challenge, so DRF answers 403."
)


def authentication_outcomes(authenticator_classes: Sequence[type]) -> list[Outcome]:
    """The 401 answers of a view with these authentication classes (none without any).

    DRF's rule: when the first class sends no ``WWW-Authenticate`` challenge (session
    authentication), a refused request is answered 403 instead, credentials or not.
    """
    if not authenticator_classes:
        return []
    if not challenges(authenticator_classes[0]):
        return [Outcome(errors.Forbidden(), note=NO_CHALLENGE)]
    outcomes = [Outcome(errors.Unauthorized(), (WWW_AUTHENTICATE,))]
    if any(inherits(cls, JWT_AUTHENTICATION) for cls in authenticator_classes):
        outcomes.append(Outcome(errors.TokenExpired(), (WWW_AUTHENTICATE,)))
    return outcomes


def default_authentication_outcomes() -> list[Outcome]:
    """401 as the project's default authentication classes answer it."""
    classes = cast(Sequence[type], api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    return authentication_outcomes(classes) or [Outcome(errors.Unauthorized(), (WWW_AUTHENTICATE,))]


def parse_error_outcome() -> Outcome:
    """400: a body that cannot be parsed."""
    return Outcome(
        example_error(errors.ValidationError, 400), note="The body could not be parsed at all."
    )


def validation_outcomes(*, reject_unknown_fields: bool) -> list[Outcome]:
    """The 422 answers of an operation that validates a body; INVALID_FIELD when unknown
    fields are refused."""
    classes: list[type[errors.ApiError]] = [
        errors.ValidationError,
        errors.MissingField,
        errors.InvalidFormat,
    ]
    if reject_unknown_fields:
        classes.append(errors.InvalidField)
    return [Outcome(example_error(cls)) for cls in classes]


def rate_limited_outcome(rate_limit_headers: Sequence[str]) -> Outcome:
    """429 RATE_LIMIT_EXCEEDED, with ``Retry-After`` and the rate-limit headers given."""
    return Outcome(example_error(errors.RateLimitExceeded), (RETRY_AFTER, *rate_limit_headers))

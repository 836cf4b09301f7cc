"""The error contract in the OpenAPI schema, through drf-spectacular (the ``openapi`` extra).

Switch it on with one setting; nothing in ``SPECTACULAR_SETTINGS`` is needed::

    REST_FRAMEWORK = {..., "DEFAULT_SCHEMA_CLASS": "apierrors.openapi.AutoSchema"}

Every operation then lists the error statuses it can really answer, inferred from its view
(authentication, permissions, throttles, path parameters, request body, renderers) plus the
domain errors declared with ``@raises``::

    class CampaignViewSet(viewsets.ModelViewSet):
        @raises(CampaignAlreadyActive, SegmentRequired)
        @action(detail=True, methods=["post"])
        def activate(self, request, pk=None): ...

Each status documents its codes as an enum narrowed to what the operation can answer, with
one example body per code, against one reusable ``ErrorEnvelope`` component. Statuses whose
answer is the same everywhere point at a shared response component (``NotFound``,
``RateLimited``, ...). Every response documents ``X-Request-ID``; throttled operations
document the ``X-RateLimit-*`` headers on their successes and their 429.

Only this module imports drf-spectacular; the rest of apierrors works without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from django.core.exceptions import ImproperlyConfigured
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ComponentRegistry, ResolvedComponent
from drf_spectacular.settings import spectacular_settings
from rest_framework import permissions, serializers
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.mixins import ListModelMixin
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.settings import api_settings

from apierrors import codes, problem
from apierrors import exceptions as errors
from apierrors.conf import conf
from apierrors.docs import EXAMPLE_REQUEST_ID, describe, example_body, example_error
from apierrors.serializers import RejectUnknownFieldsMixin

__all__ = ["AutoSchema", "raises"]

RAISES_ATTR = "apierrors_raises"

# Component names. They are part of the schema's public face: client generators name
# their classes after them, so they do not change.
ENVELOPE = "ErrorEnvelope"
ERROR = "ApiError"
ERROR_CODE = "ErrorCode"
FIELD_PROBLEM = "FieldProblem"
PROBLEM = "ProblemDetails"
RETRY_AFTER = "Retry-After"
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
IETF_RATE_LIMIT_HEADERS = ("RateLimit", "RateLimit-Policy")
WWW_AUTHENTICATE = "WWW-Authenticate"
ALLOW = "Allow"

# The one class of apierrors' simplejwt support, named so that it is not imported here.
JWT_AUTHENTICATION = "apierrors.contrib.simplejwt.JWTAuthentication"

_Decorated = TypeVar("_Decorated")
Raisable = type[errors.ApiError] | codes.ErrorCode


# @raises ------------------------------------------------------------------------------------


def _error_class(item: Raisable) -> type[errors.ApiError]:
    if isinstance(item, codes.ErrorCode):
        return errors.class_for_code(item.code)
    if isinstance(item, type) and issubclass(item, errors.ApiError):
        return item
    raise TypeError(f"raises() takes ApiError subclasses or catalogue entries, not {item!r}.")


def raises(*declared: Raisable) -> Callable[[_Decorated], _Decorated]:
    """Declare the domain errors a view, a view method or a viewset action raises.

    Takes ``ApiError`` subclasses (``CampaignAlreadyActive``, a project's own) or catalogue
    entries (``codes.SEGMENT_REQUIRED``). On a class it applies to every operation of the
    view (and of its subclasses); on a method or ``@action`` to that operation only. It
    stacks with itself and with ``extend_schema`` in any order; on an ``@api_view``
    function, put it above ``@api_view``. Inside ``extend_schema_view`` pass it beside
    ``extend_schema``: ``extend_schema_view(create=[extend_schema(...), raises(...)])``.
    """
    classes = tuple(_error_class(item) for item in declared)

    def decorator(target: _Decorated) -> _Decorated:
        holder: Any = getattr(target, "cls", None) if _is_api_view_function(target) else target
        own = holder.__dict__.get(RAISES_ATTR, ()) if isinstance(holder, type) else None
        current = own if own is not None else getattr(holder, RAISES_ATTR, ())
        setattr(holder, RAISES_ATTR, (*classes, *current))
        return target

    return decorator


def _is_api_view_function(target: object) -> bool:
    # @api_view returns a function carrying the view class it built as ``cls``.
    return not isinstance(target, type) and isinstance(getattr(target, "cls", None), type)


def declared_errors(view: Any, method: str) -> list[type[errors.ApiError]]:
    """The classes ``@raises`` declared for ``method`` of ``view`` (class and handler)."""
    found: list[type[errors.ApiError]] = []
    for klass in type(view).__mro__:
        found.extend(klass.__dict__.get(RAISES_ATTR, ()))
    handler = getattr(view, getattr(view, "action", None) or method.lower(), None)
    found.extend(getattr(handler, RAISES_ATTR, ()))
    return found


# What an operation can answer --------------------------------------------------------------


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


def known_codes() -> list[str]:
    """Every code the API can answer: the catalogue's, then the project's, sorted."""
    project = sorted(
        {str(cls.default_code) for cls in errors.registered_classes()} - set(codes.CATALOGUE)
    )
    return [*codes.CATALOGUE, *project]


def _code_order(code: str, order: Sequence[str]) -> tuple[int, str]:
    return (order.index(code) if code in order else len(order), code)


def _description(outcome: Outcome) -> str:
    text = outcome.note or describe(type(outcome.error))
    return f"`{outcome.code}`: {text}"


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# Schema fragments ---------------------------------------------------------------------------


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


@dataclass
class ErrorDocument:
    """Builds the error components and responses of one schema generation.

    ``oas31`` switches nullable fields to OpenAPI 3.1's type lists; ``problem_details`` adds
    the ``application/problem+json`` representation beside the envelope.
    """

    oas31: bool
    problem_details: bool
    all_codes: list[str] = field(default_factory=known_codes)

    def _nullable_string(self, description: str) -> dict[str, Any]:
        if self.oas31:
            return {"type": ["string", "null"], "description": description}
        return {"type": "string", "nullable": True, "description": description}

    def schemas(self) -> dict[str, dict[str, Any]]:
        request_id = {
            "type": "string",
            "pattern": r"^[A-Za-z0-9._:\-]{1,128}$",
            "description": "The id of this request; also in the X-Request-ID header and logs.",
            "example": EXAMPLE_REQUEST_ID,
        }
        retry_after = {
            "type": "integer",
            "minimum": 1,
            "description": "Seconds to wait before retrying; equals the Retry-After header.",
        }
        details = {"type": "array", "items": _ref("schemas", FIELD_PROBLEM)}
        result: dict[str, dict[str, Any]] = {
            ERROR_CODE: {
                "type": "string",
                "enum": list(self.all_codes),
                "description": "A stable, upper snake case error code; see the catalogue.",
            },
            FIELD_PROBLEM: {
                "type": "object",
                "description": "One problem of the request body, tied to a field or to none.",
                "properties": {
                    "field": self._nullable_string(
                        "Dotted path into the body (items[2].name), null when the problem "
                        "is not tied to a field."
                    ),
                    "code": _ref("schemas", ERROR_CODE),
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
            ERROR: {
                "type": "object",
                "properties": {
                    "code": _ref("schemas", ERROR_CODE),
                    "message": {
                        "type": "string",
                        "description": "One sentence, safe to show to an end user.",
                    },
                    "requestId": request_id,
                    "details": details,
                    "retryAfter": retry_after,
                    "docUrl": {
                        "type": "string",
                        "format": "uri",
                        "description": "The code's entry in the error catalogue.",
                    },
                },
                "required": ["code", "message", "requestId"],
            },
            ENVELOPE: {
                "type": "object",
                "description": "The body of every error answer.",
                "properties": {"error": _ref("schemas", ERROR)},
                "required": ["error"],
                "additionalProperties": False,
            },
        }
        if self.problem_details:
            result[PROBLEM] = {
                "type": "object",
                "description": "An RFC 9457 problem document, for clients that accept "
                "application/problem+json.",
                "properties": {
                    "type": {"type": "string", "format": "uri-reference"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string", "format": "uri-reference"},
                    "code": _ref("schemas", ERROR_CODE),
                    "requestId": request_id,
                    "errors": details,
                    "retryAfter": retry_after,
                },
                "required": ["type", "title", "status", "detail", "code", "requestId"],
            }
        return result

    def headers(self) -> dict[str, dict[str, Any]]:
        integer = {"type": "integer", "minimum": 0}
        result: dict[str, dict[str, Any]] = {
            conf.REQUEST_ID_HEADER: {
                "description": "The id of this request (generated, or the client's when valid).",
                "required": True,
                "schema": {"type": "string", "pattern": r"^[A-Za-z0-9._:\-]{1,128}$"},
            },
            "X-RateLimit-Limit": {
                "description": "Requests allowed in the window of the most restrictive policy.",
                "schema": integer,
            },
            "X-RateLimit-Remaining": {
                "description": "Requests left in that window.",
                "schema": integer,
            },
            "X-RateLimit-Reset": {
                "description": "Unix time (seconds) when that window's quota is whole again.",
                "schema": integer,
            },
            RETRY_AFTER: {
                "description": "Seconds to wait before retrying; equals the body's retryAfter.",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            },
            WWW_AUTHENTICATE: {
                "description": "The authentication challenge (RFC 6750 for bearer tokens).",
                "schema": {"type": "string"},
            },
            ALLOW: {
                "description": "The methods the URL allows.",
                "required": True,
                "schema": {"type": "string"},
            },
        }
        if conf.IETF_RATELIMIT_HEADERS:
            result["RateLimit"] = {
                "description": "The IETF draft's RateLimit field.",
                "schema": {"type": "string"},
            }
            result["RateLimit-Policy"] = {
                "description": "The IETF draft's RateLimit-Policy field.",
                "schema": {"type": "string"},
            }
        return result

    def rate_limit_headers(self) -> tuple[str, ...]:
        if not conf.RATELIMIT_HEADERS:
            return ()
        extra = IETF_RATE_LIMIT_HEADERS if conf.IETF_RATELIMIT_HEADERS else ()
        return (*RATE_LIMIT_HEADERS, *extra)

    def response(self, outcomes: Sequence[Outcome]) -> dict[str, Any]:
        """The response object of one status: its codes, examples and headers."""
        status = outcomes[0].status
        by_code: dict[str, Outcome] = {}
        for outcome in outcomes:
            by_code.setdefault(outcome.code, outcome)
        ordered = sorted(by_code.values(), key=lambda o: _code_order(o.code, self.all_codes))
        code_list = [outcome.code for outcome in ordered]
        header_names: list[str] = [conf.REQUEST_ID_HEADER]
        for outcome in ordered:
            header_names += [name for name in outcome.headers if name not in header_names]
        error_narrowing: dict[str, Any] = {
            "type": "object",
            "properties": {"code": {"type": "string", "enum": code_list}},
        }
        if status == 429:
            error_narrowing["required"] = ["retryAfter"]
        bodies = {outcome.code: example_body(outcome.error) for outcome in ordered}
        content: dict[str, Any] = {
            problem.JSON_MEDIA_TYPE: {
                "schema": {
                    "allOf": [
                        _ref("schemas", ENVELOPE),
                        {"type": "object", "properties": {"error": error_narrowing}},
                    ]
                },
                "examples": {
                    code: {"summary": code, "value": body} for code, body in bodies.items()
                },
            }
        }
        if self.problem_details:
            content[problem.MEDIA_TYPE] = {
                "schema": {
                    "allOf": [
                        _ref("schemas", PROBLEM),
                        {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string", "enum": code_list},
                                "status": {"type": "integer", "enum": [status]},
                            },
                        },
                    ]
                },
                "examples": {
                    code: {"summary": code, "value": problem.from_envelope(body, status)}
                    for code, body in bodies.items()
                },
            }
        return {
            "description": "\n".join(f"- {_description(outcome)}" for outcome in ordered),
            "headers": {name: _ref("headers", name) for name in header_names},
            "content": content,
        }


def authentication_outcomes(authenticator_classes: Sequence[type]) -> list[Outcome]:
    """The 401 answers of a view with these authentication classes (none without any)."""
    if not authenticator_classes:
        return []
    outcomes = [Outcome(errors.Unauthorized(), (WWW_AUTHENTICATE,))]
    if any(_inherits(cls, JWT_AUTHENTICATION) for cls in authenticator_classes):
        outcomes.append(Outcome(errors.TokenExpired(), (WWW_AUTHENTICATE,)))
    return outcomes


def parse_error_outcome() -> Outcome:
    """400: a body that cannot be parsed."""
    return Outcome(
        example_error(errors.ValidationError, 400), note="The body could not be parsed at all."
    )


def default_authentication_outcomes() -> list[Outcome]:
    """401 as the project's default authentication classes answer it."""
    classes = cast(Sequence[type], api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    return authentication_outcomes(classes) or authentication_outcomes([BaseAuthentication])


def rejects_unknown_fields(serializer: Any) -> bool:
    """Whether ``serializer`` (a class or an instance) answers undeclared body fields with
    INVALID_FIELD: ``RejectUnknownFieldsMixin``, or any serializer under the
    ``REJECT_UNKNOWN_FIELDS`` setting, unless it sets ``reject_unknown_fields = False``."""
    serializer_class = serializer if isinstance(serializer, type) else type(serializer)
    if not issubclass(serializer_class, serializers.Serializer):
        return False
    if not getattr(serializer, "reject_unknown_fields", True):
        return False
    return issubclass(serializer_class, RejectUnknownFieldsMixin) or conf.REJECT_UNKNOWN_FIELDS


# What DRF's CharField refuses beyond maxLength and minLength, as JSON Schema patterns: a NUL
# character (its ProhibitNullCharactersValidator), and, where it trims whitespace and refuses
# blanks, text of whitespace only. Documented so that a schema-valid body is not refused.
# The whitespace is what Python's str.strip() removes, spelled out: a regex's \s differs
# between engines (ECMA-262's lacks U+001C-U+001F and U+0085, which strip() removes).
PYTHON_WHITESPACE = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
NO_NUL_PATTERN = "^[^\\x00]*$"
NOT_BLANK_PATTERN = f"^[^\\x00]*[^\\x00{PYTHON_WHITESPACE}][^\\x00]*$"


def text_pattern(text: serializers.Field[Any, Any, Any, Any]) -> str | None:
    """The pattern a ``CharField`` of a request body holds its input to, or ``None``."""
    if not isinstance(text, serializers.CharField) or text.read_only:
        return None
    if not any(isinstance(v, ProhibitNullCharactersValidator) for v in text.validators):
        return None
    if text.trim_whitespace and not text.allow_blank:
        return NOT_BLANK_PATTERN
    return NO_NUL_PATTERN


def constrain_text_fields(serializer: Any, schema: dict[str, Any]) -> None:
    """Give the plain text properties of a request component the pattern their field checks.

    Properties with a format, an enum or a pattern of their own (e-mail, URL, regex and
    choice fields) are left as drf-spectacular wrote them.
    """
    instance = serializer() if isinstance(serializer, type) else serializer
    fields = getattr(instance, "fields", None)
    properties = schema.get("properties", {})
    if not isinstance(fields, Mapping):
        return
    for name, serializer_field in fields.items():
        prop = properties.get(name)
        pattern = text_pattern(serializer_field)
        if (
            pattern is None
            or not isinstance(prop, dict)
            or prop.get("type") != "string"
            or {"format", "enum", "pattern"} & set(prop)
        ):
            continue
        prop["pattern"] = pattern


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


# Shared response components: the answer of a status wherever it is the same. An operation
# whose answer for that status differs (more codes, other headers) gets its own response.
STANDARD_RESPONSES: dict[str, Callable[[ErrorDocument], list[Outcome]]] = {
    "BadRequest": lambda doc: [parse_error_outcome()],
    "Unauthorized": lambda doc: default_authentication_outcomes(),
    "Forbidden": lambda doc: [Outcome(errors.Forbidden())],
    "NotFound": lambda doc: [Outcome(errors.ResourceNotFound())],
    "MethodNotAllowed": lambda doc: [Outcome(errors.MethodNotAllowed(), (ALLOW,))],
    "NotAcceptable": lambda doc: [Outcome(errors.NotAcceptable())],
    "UnsupportedMediaType": lambda doc: [Outcome(errors.UnsupportedMediaType())],
    "ValidationFailed": lambda doc: validation_outcomes(
        reject_unknown_fields=conf.REJECT_UNKNOWN_FIELDS
    ),
    "RateLimited": lambda doc: [
        Outcome(
            example_error(errors.RateLimitExceeded),
            (RETRY_AFTER, *doc.rate_limit_headers()),
        )
    ],
    "ServerError": lambda doc: [Outcome(errors.ServerError())],
    "ServiceUnavailable": lambda doc: [Outcome(errors.ServiceUnavailable())],
}


# The schema class -----------------------------------------------------------------------------


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's ``AutoSchema`` that also documents every error an operation answers.

    Each ``*_errors`` method infers one source of errors and returns ``Outcome`` objects;
    override one to refine what your views answer (``permission_errors`` for a permission
    class that never denies, say). ``get_error_outcomes`` collects them all.
    """

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        document = self.error_document()
        standard = self.register_error_components(document)
        responses: dict[str, Any] = operation.setdefault("responses", {})
        by_status: dict[int, list[Outcome]] = {}
        for outcome in self.get_error_outcomes(operation):
            by_status.setdefault(outcome.status, []).append(outcome)
        for status, outcomes in by_status.items():
            if str(status) in responses:
                continue  # documented by hand with extend_schema
            built = document.response(outcomes)
            name = standard.get(status)
            if name is not None and built == registry[(name, ResolvedComponent.RESPONSE)].schema:
                responses[str(status)] = _ref(ResolvedComponent.RESPONSE, name)
            else:
                responses[str(status)] = built
        success_headers = [conf.REQUEST_ID_HEADER]
        if self.is_throttled():
            success_headers += document.rate_limit_headers()
        for key, response in responses.items():
            if "$ref" in response:
                continue
            headers = response.setdefault("headers", {})
            names = success_headers if key.startswith(("1", "2", "3")) else success_headers[:1]
            for name in names:
                headers.setdefault(name, _ref("headers", name))
        operation["responses"] = dict(sorted(responses.items(), key=_status_key))
        return operation

    def resolve_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> ResolvedComponent:
        """drf-spectacular's component for a serializer, closed to undeclared properties when
        the serializer refuses them, so that clients and fuzzers do not send them."""
        component: ResolvedComponent = super().resolve_serializer(
            serializer, direction, bypass_extensions
        )
        schema = component.schema if component else None
        if isinstance(schema, dict) and schema.get("type") == "object":
            if rejects_unknown_fields(serializer):
                schema["additionalProperties"] = False
            if direction == "request":
                constrain_text_fields(serializer, schema)
        return component

    # Components ---------------------------------------------------------------------------

    def error_document(self) -> ErrorDocument:
        return ErrorDocument(
            oas31=str(spectacular_settings.OAS_VERSION).startswith("3.1"),
            problem_details=conf.PROBLEM_DETAILS,
        )

    def register_error_components(self, document: ErrorDocument) -> dict[int, str]:
        """Register the shared components; returns the response component of each status."""
        for name, schema in document.schemas().items():
            self._register(name, ResolvedComponent.SCHEMA, schema)
        for name, header in document.headers().items():
            self._register(name, ResolvedComponent.HEADER, header)
        by_status: dict[int, str] = {}
        for name, outcomes_for in STANDARD_RESPONSES.items():
            outcomes = outcomes_for(document)
            self._register(name, ResolvedComponent.RESPONSE, document.response(outcomes))
            by_status[outcomes[0].status] = name
        return by_status

    def _register(self, name: str, kind: str, schema: dict[str, Any]) -> None:
        self.registry.register_on_missing(
            ResolvedComponent(  # type: ignore[no-untyped-call]
                name=name, type=kind, schema=schema, object=f"apierrors.{name}"
            )
        )

    # Inference ----------------------------------------------------------------------------

    def get_error_outcomes(self, operation: dict[str, Any]) -> list[Outcome]:
        """Every error this operation can answer, inferred and declared."""
        _bind_actions(self.view)
        return [
            *self.authentication_errors(),
            *self.permission_errors(),
            *self.throttle_errors(),
            *self.lookup_errors(operation),
            *self.body_errors(operation),
            *self.negotiation_errors(),
            *self.declared_errors(),
            *self.server_errors(),
        ]

    def authentication_errors(self) -> list[Outcome]:
        """401 when the view authenticates; TOKEN_EXPIRED with apierrors' JWT authentication.

        Authentication runs on every request that reaches the view, so a bad credential is
        refused even where the permissions would allow anonymous access.
        """
        return authentication_outcomes([type(auth) for auth in self.view.get_authenticators()])

    def permission_errors(self) -> list[Outcome]:
        """403 when a permission can refuse an authenticated request, or CSRF can fail.

        ``IsAuthenticated`` (and ``IsAuthenticatedOrReadOnly``) refuse only anonymous
        requests, which are answered 401 when the view authenticates. ``HasScopes`` answers
        INVALID_SCOPE for the scopes this operation requires.
        """
        authenticated = bool(self.view.get_authenticators())
        outcomes: list[Outcome] = []
        for permission in _leaf_permissions(self.view.get_permissions()):
            if isinstance(permission, _Negated):
                outcomes.append(Outcome(errors.Forbidden()))
            elif type(permission) is permissions.AllowAny or (
                authenticated and type(permission) in _AUTHENTICATION_ONLY
            ):
                continue
            elif _named_in_mro(type(permission), "HasScopes"):
                outcomes += self.scope_errors(permission)
            else:
                outcomes.append(Outcome(errors.Forbidden()))
        unsafe = self.method not in permissions.SAFE_METHODS
        if unsafe and any(
            isinstance(auth, SessionAuthentication) for auth in self.view.get_authenticators()
        ):
            outcomes.append(Outcome(errors.Forbidden(), note="CSRF verification failed."))
        return outcomes

    def scope_errors(self, permission: Any) -> list[Outcome]:
        """What a ``HasScopes`` permission answers for this operation."""
        try:
            required = permission.get_required_scopes(self.view.request, self.view)
        except (ImproperlyConfigured, AttributeError, TypeError):
            return [Outcome(errors.InvalidScope(), (WWW_AUTHENTICATE,))]
        if required is None:
            note = "HasScopes maps no scopes to this method, so it refuses every request."
            return [Outcome(errors.Forbidden(), note=note)]
        if not required:
            return []
        note = "The access token lacks a required scope: " + ", ".join(required) + "."
        return [Outcome(errors.InvalidScope(), (WWW_AUTHENTICATE,), note)]

    def is_throttled(self) -> bool:
        try:
            return bool(self.view.get_throttles())
        except ImproperlyConfigured:
            # DRF's rate throttles look their rate up when instantiated.
            return bool(getattr(self.view, "throttle_classes", ()))

    def throttle_errors(self) -> list[Outcome]:
        """429 when throttled (with the rate-limit headers); 503 when the throttles fail
        closed on a store outage."""
        if not self.is_throttled():
            return []
        document = self.error_document()
        outcomes = [
            Outcome(
                example_error(errors.RateLimitExceeded),
                (RETRY_AFTER, *document.rate_limit_headers()),
            )
        ]
        if not conf.FAIL_OPEN:
            # Fail-closed throttles ask the client to come back after the breaker's cooldown.
            cooldown = max(1, math.ceil(conf.BREAKER_COOLDOWN))
            outcome = Outcome(errors.ServiceUnavailable(retry_after=cooldown), (RETRY_AFTER,))
            outcomes.append(outcome)
        return outcomes

    def lookup_errors(self, operation: dict[str, Any]) -> list[Outcome]:
        """404 for an operation with a path parameter, or a page-numbered list."""
        has_path_parameter = any(
            parameter.get("in") == "path" for parameter in operation.get("parameters", ())
        )
        if has_path_parameter or self.is_paginated_list():
            return [Outcome(errors.ResourceNotFound())]
        return []

    def is_paginated_list(self) -> bool:
        """Whether this is a list whose paginator answers 404 for a page that does not exist."""
        if self.method != "GET" or not isinstance(self.view, ListModelMixin):
            return False
        if getattr(self.view, "action", "list") not in ("list", None):
            return False
        paginator = getattr(self.view, "paginator", None)
        return isinstance(paginator, PageNumberPagination | CursorPagination)

    def body_errors(self, operation: dict[str, Any]) -> list[Outcome]:
        """400, 415 and 422 for an operation that takes a body."""
        if "requestBody" not in operation:
            return []
        rejects = rejects_unknown_fields(self.get_request_serializer())
        return [
            parse_error_outcome(),
            Outcome(errors.UnsupportedMediaType()),
            *validation_outcomes(reject_unknown_fields=rejects),
        ]

    def negotiation_errors(self) -> list[Outcome]:
        """406 unless a renderer takes any media type."""
        renderers = self.view.get_renderers()
        if any(getattr(renderer, "media_type", "") == "*/*" for renderer in renderers):
            return []
        return [Outcome(errors.NotAcceptable())]

    def declared_errors(self) -> list[Outcome]:
        """The errors ``@raises`` declares for this operation."""
        document = self.error_document()
        outcomes = []
        for cls in declared_errors(self.view, self.method):
            error = example_error(cls)
            headers: tuple[str, ...] = ()
            if error.status_code == 429:
                headers = (RETRY_AFTER,)
                if self.is_throttled():
                    headers += document.rate_limit_headers()
            elif error.status_code == 401:
                headers = (WWW_AUTHENTICATE,)
            elif error.status_code == 405:
                headers = (ALLOW,)
            outcomes.append(Outcome(error, headers))
        return outcomes

    def server_errors(self) -> list[Outcome]:
        """500: anything uncaught, on every operation."""
        return [Outcome(errors.ServerError())]


_AUTHENTICATION_ONLY = (permissions.IsAuthenticated, permissions.IsAuthenticatedOrReadOnly)
_Negated = permissions.NOT


def _bind_actions(view: Any) -> None:
    # A viewset learns its handlers per request (``view.get = view.list``) in the function
    # ``as_view`` returns; the schema generator's view never ran it, and permissions such as
    # HasScopes look at those handlers.
    for method, action_name in (getattr(view, "action_map", None) or {}).items():
        if not hasattr(view, method) and hasattr(view, action_name):
            setattr(view, method, getattr(view, action_name))


def _leaf_permissions(items: Iterable[Any]) -> list[Any]:
    """Permissions with ``&`` and ``|`` compositions opened up (``~`` kept whole)."""
    leaves: list[Any] = []
    for item in items:
        if isinstance(item, permissions.AND | permissions.OR):
            leaves += _leaf_permissions([getattr(item, "op1", None), getattr(item, "op2", None)])
        else:
            leaves.append(item)
    return leaves


def _inherits(cls: type, dotted: str) -> bool:
    return any(_class_path(base) == dotted for base in cls.__mro__)


def _named_in_mro(cls: type, name: str) -> bool:
    return any(base.__name__ == name for base in cls.__mro__)


def _status_key(item: tuple[str, Any]) -> tuple[int, str]:
    key = item[0]
    return (int(key), key) if key.isdigit() else (1000, key)


class JWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
    """The bearer scheme for apierrors' ``JWTAuthentication`` (a simplejwt subclass)."""

    target_class = JWT_AUTHENTICATION
    match_subclasses = True
    optional = True

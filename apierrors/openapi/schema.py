"""``AutoSchema``: drf-spectacular's schema class, documenting every error an operation answers."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ComponentRegistry, ResolvedComponent
from drf_spectacular.settings import spectacular_settings
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.mixins import ListModelMixin
from rest_framework.pagination import CursorPagination, PageNumberPagination

from apierrors import declarations
from apierrors import exceptions as errors
from apierrors.conf import conf
from apierrors.docs import example_error
from apierrors.openapi.bodies import (
    checks_uniqueness,
    constrain_text_fields,
    rejects_unknown_fields,
)
from apierrors.openapi.components import ALLOW, ERROR_CODE, WWW_AUTHENTICATE, ref
from apierrors.openapi.introspection import (
    AUTHENTICATION_ONLY,
    Negated,
    bind_actions,
    leaf_permissions,
    named_in_mro,
)
from apierrors.openapi.outcomes import (
    Outcome,
    authentication_outcomes,
    code_order,
    parse_error_outcome,
    rate_limited_outcome,
    validation_outcomes,
)
from apierrors.openapi.responses import STANDARD_RESPONSES, ErrorDocument, status_key
from apierrors.ratelimit.headers import RETRY_AFTER, retry_after_seconds


@dataclass
class SharedComponents:
    """The shared error components of one schema generation.

    The schemas are registered by the first operation. A response component (and the
    headers it names) is registered when an operation first refers to it, and ``ErrorCode``
    lists the codes the operations document so far: a schema names only what its
    operations can answer.
    """

    responses: dict[int, tuple[str, dict[str, Any]]]
    headers: dict[str, dict[str, Any]]
    code_order: list[str]
    codes: set[str] = field(default_factory=set)


# Each generation has a registry of its own: the shared components are built once per registry.
_shared: weakref.WeakKeyDictionary[ComponentRegistry, SharedComponents] = (
    weakref.WeakKeyDictionary()
)


# The methods that create or change a resource, and so can break a uniqueness rule.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's ``AutoSchema`` that also documents every error an operation answers.

    Each ``*_errors`` method infers one source of errors and returns ``Outcome`` objects;
    override one to refine what your views answer (``permission_errors`` for a permission
    class that never denies, say). ``get_error_outcomes`` collects them all.
    """

    _operation_document: ErrorDocument | None = None

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
        self._operation_document = self.error_document()
        try:
            self._add_error_responses(operation, self._operation_document)
        finally:
            self._operation_document = None
        return operation

    def _add_error_responses(self, operation: dict[str, Any], document: ErrorDocument) -> None:
        """Document the operation's errors, and its headers on every response."""
        shared = self.register_error_components(document)
        responses: dict[str, Any] = operation.setdefault("responses", {})
        by_status: dict[int, list[Outcome]] = {}
        for outcome in self.get_error_outcomes(operation):
            by_status.setdefault(outcome.status, []).append(outcome)
        documented: list[Outcome] = []
        for status, outcomes in by_status.items():
            if str(status) in responses:
                continue  # documented by hand with extend_schema
            documented += outcomes
            built = document.response(outcomes)
            name, standard = shared.responses.get(status, (None, None))
            if name is not None and built == standard:
                self._register(name, ResolvedComponent.RESPONSE, built)
                responses[str(status)] = ref(ResolvedComponent.RESPONSE, name)
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
                headers.setdefault(name, ref("headers", name))
        operation["responses"] = dict(sorted(responses.items(), key=status_key))
        self._register_referenced_headers(shared, operation["responses"].values())
        self._add_codes(shared, [outcome.code for outcome in documented])

    def _register_referenced_headers(self, shared: SharedComponents, responses: Any) -> None:
        """Register the header components that ``responses`` refer to."""
        standard = dict(shared.responses.values())
        for response in responses:
            if "$ref" in response:
                response = standard.get(str(response["$ref"]).rsplit("/", 1)[1], {})
            for header in response.get("headers", {}).values():
                name = str(header.get("$ref", "")).rsplit("/", 1)[-1]
                if name in shared.headers:
                    self._register(name, ResolvedComponent.HEADER, shared.headers[name])

    def _add_codes(self, shared: SharedComponents, documented: list[str]) -> None:
        """Add the codes an operation documents to the ``ErrorCode`` enum."""
        shared.codes.update(documented)
        enum = self.registry[(ERROR_CODE, ResolvedComponent.SCHEMA)].schema["enum"]
        enum[:] = sorted(shared.codes, key=lambda code: code_order(code, shared.code_order))

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
        """A new ``ErrorDocument`` for the settings in force."""
        return ErrorDocument(
            oas31=str(spectacular_settings.OAS_VERSION).startswith("3.1"),
            problem_details=conf.PROBLEM_DETAILS,
        )

    def operation_error_document(self) -> ErrorDocument:
        """The ``ErrorDocument`` of the operation being generated, built once for it (a new
        one when called outside ``get_operation``)."""
        if self._operation_document is not None:
            return self._operation_document
        return self.error_document()

    def register_error_components(self, document: ErrorDocument) -> SharedComponents:
        """The shared components of this schema generation (per registry), built by the
        first operation, which registers the schemas; the later ones find them."""
        shared = _shared.get(self.registry)
        if shared is None:
            shared = self._register_error_components(document)
            _shared[self.registry] = shared
        return shared

    def _register_error_components(self, document: ErrorDocument) -> SharedComponents:
        for name, schema in document.schemas().items():
            if name == ERROR_CODE:
                schema = {**schema, "enum": []}  # filled by the operations' codes
            self._register(name, ResolvedComponent.SCHEMA, schema)
        responses: dict[int, tuple[str, dict[str, Any]]] = {}
        for name, outcomes_for in STANDARD_RESPONSES.items():
            outcomes = outcomes_for(document)
            responses[outcomes[0].status] = (name, document.response(outcomes))
        return SharedComponents(responses, document.headers(), document.all_codes)

    def _register(self, name: str, kind: str, schema: dict[str, Any]) -> None:
        self.registry.register_on_missing(
            ResolvedComponent(  # type: ignore[no-untyped-call]
                name=name, type=kind, schema=schema, object=f"apierrors.{name}"
            )
        )

    # Inference ----------------------------------------------------------------------------

    def get_error_outcomes(self, operation: dict[str, Any]) -> list[Outcome]:
        """Every error this operation can answer, inferred and declared."""
        bind_actions(self.view)
        return [
            *self.authentication_errors(),
            *self.permission_errors(),
            *self.throttle_errors(),
            *self.lookup_errors(operation),
            *self.body_errors(operation),
            *self.uniqueness_errors(operation),
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
        for permission in leaf_permissions(self.view.get_permissions()):
            if isinstance(permission, Negated):
                outcomes.append(Outcome(errors.Forbidden()))
            elif type(permission) is permissions.AllowAny or (
                authenticated and type(permission) in AUTHENTICATION_ONLY
            ):
                continue
            elif named_in_mro(type(permission), "HasScopes"):
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
        document = self.operation_error_document()
        outcomes = [rate_limited_outcome(document.rate_limit_headers())]
        if not conf.FAIL_OPEN:
            # Fail-closed throttles ask the client to come back after the breaker's cooldown.
            cooldown = retry_after_seconds(conf.BREAKER_COOLDOWN)
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

    def uniqueness_errors(self, operation: dict[str, Any]) -> list[Outcome]:
        """409 DUPLICATE_RESOURCE for a write whose request serializer checks uniqueness.

        A ``UniqueValidator``, ``UniqueTogetherValidator`` or ``unique_for_date`` refusing a
        taken value is answered 409 (``details`` name the fields), and so is the database's
        unique violation for a ``ModelSerializer`` whose model has a uniqueness rule.
        """
        if self.method not in WRITE_METHODS or "requestBody" not in operation:
            return []
        serializer = self.get_request_serializer()
        if serializer is None or not checks_uniqueness(serializer):
            return []
        return [Outcome(example_error(errors.DuplicateResource))]

    def negotiation_errors(self) -> list[Outcome]:
        """406 unless a renderer takes any media type."""
        renderers = self.view.get_renderers()
        if any(getattr(renderer, "media_type", "") == "*/*" for renderer in renderers):
            return []
        return [Outcome(errors.NotAcceptable())]

    def declared_errors(self) -> list[Outcome]:
        """The errors ``@raises`` declares for this operation."""
        document = self.operation_error_document()
        outcomes = []
        for cls in declarations.declared_errors(self.view, self.method):
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

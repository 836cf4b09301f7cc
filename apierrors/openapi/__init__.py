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
one example body per code, against one reusable ``ErrorEnvelope`` component; its
``ErrorCode`` enum is the union of the codes the operations answer. Statuses whose
answer is the same everywhere point at a shared response component (``NotFound``,
``RateLimited``, ...). Every response documents ``X-Request-ID``; throttled operations
document the ``X-RateLimit-*`` headers on their successes and their 429.

The package, by concern:

- ``schema``: ``AutoSchema``, which infers each operation's errors;
- ``outcomes``: ``Outcome``, one error an operation can answer, and the shared ones;
- ``responses``: ``ErrorDocument``, which builds the responses, and the shared ones;
- ``components``: the envelope's schema components and the header components;
- ``bodies``: what a request body's component promises (closed objects, text patterns and
  their examples), and whether its serializer checks uniqueness (409);
- ``introspection``: reading a view's handlers and permissions.

It imports drf-spectacular. ``@raises`` itself lives in ``apierrors.declarations``, which
does not, so views can declare their errors without the extra installed; it is re-exported
here.
"""

from __future__ import annotations

from apierrors.declarations import RAISES_ATTR, Raisable, declared_errors, raises
from apierrors.openapi.bodies import (
    NO_NUL_PATTERN,
    NOT_BLANK_PATTERN,
    PYTHON_WHITESPACE,
    TEXT_EXAMPLE,
    checks_uniqueness,
    constrain_text_fields,
    rejects_unknown_fields,
    text_example,
    text_pattern,
)
from apierrors.openapi.components import (
    ALLOW,
    ENVELOPE,
    ERROR,
    ERROR_CODE,
    FIELD_PROBLEM,
    PROBLEM,
    WWW_AUTHENTICATE,
)
from apierrors.openapi.outcomes import (
    JWT_AUTHENTICATION,
    Outcome,
    authentication_outcomes,
    default_authentication_outcomes,
    known_codes,
    parse_error_outcome,
    validation_outcomes,
)
from apierrors.openapi.responses import STANDARD_RESPONSES, ErrorDocument
from apierrors.openapi.schema import AutoSchema
from apierrors.ratelimit.headers import IETF_RATE_LIMIT_HEADERS, RATE_LIMIT_HEADERS, RETRY_AFTER

__all__ = [
    "ALLOW",
    "ENVELOPE",
    "ERROR",
    "ERROR_CODE",
    "FIELD_PROBLEM",
    "IETF_RATE_LIMIT_HEADERS",
    "JWT_AUTHENTICATION",
    "NOT_BLANK_PATTERN",
    "NO_NUL_PATTERN",
    "PROBLEM",
    "PYTHON_WHITESPACE",
    "RAISES_ATTR",
    "RATE_LIMIT_HEADERS",
    "RETRY_AFTER",
    "STANDARD_RESPONSES",
    "TEXT_EXAMPLE",
    "WWW_AUTHENTICATE",
    "AutoSchema",
    "ErrorDocument",
    "Outcome",
    "Raisable",
    "authentication_outcomes",
    "checks_uniqueness",
    "constrain_text_fields",
    "declared_errors",
    "default_authentication_outcomes",
    "known_codes",
    "parse_error_outcome",
    "raises",
    "rejects_unknown_fields",
    "text_example",
    "text_pattern",
    "validation_outcomes",
]

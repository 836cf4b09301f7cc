"""The OpenAPI schema and its Swagger UI, served to anyone, with no authentication at all.

drf-spectacular's views run DRF's default authentication (session and HTTP Basic), which
would make them a second endpoint that checks passwords (each check hashing one, before any
throttle decides) beside the token endpoint. Here they authenticate nobody: the schema is
public, credentials sent to them are not read, and they are throttled by client address.

The schema view's query parameters are checked before use: ``version`` is copied into the
``Content-Disposition`` file name and ``lang`` selects a translation, so a value outside
their form is 422 INVALID_FORMAT naming the parameter, never a header built from it.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from apierrors.throttling import AnonRateLimitThrottle, UserRateLimitThrottle

# The views anyone may call are throttled like the others, by client address.
PUBLIC = [UserRateLimitThrottle, AnonRateLimitThrottle]

VERSION = re.compile(r"[A-Za-z0-9._-]{1,32}")


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema (``?format=json`` for JSON), ``?version=`` and ``?lang=`` checked."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = PUBLIC

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        problems: dict[str, list[ErrorDetail]] = {}
        version = request.query_params.get("version")
        if version is not None and not VERSION.fullmatch(version):
            problems["version"] = [
                ErrorDetail(
                    "version is 1 to 32 letters, digits, dots, underscores or hyphens.",
                    code="invalid",
                )
            ]
        lang = request.query_params.get("lang")
        if lang is not None and lang not in {code for code, _ in settings.LANGUAGES}:
            problems["lang"] = [
                ErrorDetail("lang is not one of the languages this API offers.", code="invalid")
            ]
        if problems:
            raise ValidationError(problems)
        response: Response = super().get(request, *args, **kwargs)
        return response


class DocsView(SpectacularSwaggerView):
    """Swagger UI over the schema, for anyone."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = PUBLIC

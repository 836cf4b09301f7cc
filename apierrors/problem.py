"""Problem details (RFC 9457) for clients that ask for them.

With ``APIERRORS = {"PROBLEM_DETAILS": True}``, a client whose ``Accept`` header names
``application/problem+json`` (and does not prefer ``application/json`` over it) gets its
errors as a problem document with that media type::

    {"type": "https://docs.example.com/errors/#resource-not-found",
     "title": "The requested resource does not exist.",
     "status": 404, "detail": "Campaign 42 does not exist.", "instance": "/api/v1/campaigns/42/",
     "code": "RESOURCE_NOT_FOUND", "requestId": "req_8f14e45fceea167a5a36dedd"}

``type`` is the code's ``docUrl`` (``APIERRORS["DOCS_URL"]``) or ``"about:blank"``, in which
case ``title`` is the status's reason phrase as the RFC asks; ``code``, ``requestId``,
``errors`` (the envelope's ``details``) and ``retryAfter`` are extension members. Everyone
else keeps the envelope. The conversion is a pure function of the envelope, so both answer
the same failure with the same facts.

DRF refuses a request whose ``Accept`` names no media type a renderer produces before the
view runs, so a client that accepts *only* ``application/problem+json`` would get 406 for
everything. ``ContentNegotiation`` lets such a client through with JSON successes::

    REST_FRAMEWORK = {
        ...,
        "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apierrors.problem.ContentNegotiation",
    }
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_header_parameters
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from apierrors import exceptions as errors
from apierrors.conf import envelope_settings

MEDIA_TYPE = "application/problem+json"
JSON_MEDIA_TYPE = "application/json"
ABOUT_BLANK = "about:blank"


def _quality(params: Mapping[str, str]) -> float:
    try:
        value = float(params.get("q", "1"))
    except ValueError:
        return 0.0
    return value if 0.0 <= value <= 1.0 else 0.0


def prefers_problem_details(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for problem details rather than the envelope.

    Only an explicit ``application/problem+json`` with a quality above 0 asks for them (a
    wildcard does not), and only when ``application/json`` is not given a higher quality.
    """
    if not accept:
        return False
    best: dict[str, float] = {}
    for item in accept.split(","):
        media_type, params = parse_header_parameters(item)
        media_type = media_type.strip().lower()
        if media_type in (MEDIA_TYPE, JSON_MEDIA_TYPE):
            best[media_type] = max(best.get(media_type, 0.0), _quality(params))
    problem_quality = best.get(MEDIA_TYPE, 0.0)
    return problem_quality > 0.0 and problem_quality >= best.get(JSON_MEDIA_TYPE, 0.0)


def wants_problem_details(request: HttpRequest | None) -> bool:
    """Whether to answer ``request``'s error as problem details (the setting and Accept)."""
    if request is None or not envelope_settings().problem_details:
        return False
    return prefers_problem_details(request.headers.get("Accept"))


def _default_message(code: str) -> str | None:
    cls = errors.find_class(code)
    return None if cls is None else str(cls.default_detail)


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def from_envelope(
    body: Mapping[str, Any], status: int, *, instance: str | None = None
) -> dict[str, Any]:
    """The RFC 9457 problem document for an envelope answered with ``status``.

    ``instance`` is the path of the request that failed (left out when ``None``); the query
    string is not used, as it may carry what should not be echoed.
    """
    error: Mapping[str, Any] = body["error"]
    code = str(error["code"])
    doc_url = error.get("docUrl")
    if doc_url:
        problem_type = str(doc_url)
        title = _default_message(code) or reason_phrase(status)
    else:
        problem_type = ABOUT_BLANK
        title = reason_phrase(status)
    problem: dict[str, Any] = {
        "type": problem_type,
        "title": title,
        "status": status,
        "detail": error["message"],
    }
    if instance is not None:
        problem["instance"] = instance
    problem["code"] = code
    problem["requestId"] = error["requestId"]
    if error.get("details"):
        problem["errors"] = list(error["details"])
    if error.get("retryAfter") is not None:
        problem["retryAfter"] = error["retryAfter"]
    return problem


def negotiate(
    body: dict[str, Any], status: int, request: HttpRequest | None
) -> tuple[dict[str, Any], str]:
    """The body and ``Content-Type`` to answer an error with: the envelope as JSON, or the
    problem document when ``wants_problem_details(request)``."""
    if request is not None and wants_problem_details(request):
        return from_envelope(body, status, instance=request.path), MEDIA_TYPE
    return body, JSON_MEDIA_TYPE


def vary_on_accept(response: HttpResponseBase) -> None:
    """With problem details on, an error's representation depends on ``Accept``: say so
    to caches."""
    if envelope_settings().problem_details:
        patch_vary_headers(response, ("Accept",))


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that a client asking for problem details is not refused.

    Where DRF would answer 406 and the request wants problem details, the first JSON
    renderer is chosen: errors then answer as problem documents, successes as JSON.
    Override ``fallback_renderer`` to pick another renderer.
    """

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            selected: tuple[BaseRenderer, str] = super().select_renderer(
                request, renderers, format_suffix
            )
        except NotAcceptable:
            fallback = self.fallback_renderer(renderers)
            if fallback is None or not wants_problem_details(request._request):
                raise
            return fallback, str(fallback.media_type)
        return selected

    def fallback_renderer(self, renderers: Iterable[BaseRenderer]) -> BaseRenderer | None:
        return next((r for r in renderers if r.media_type == JSON_MEDIA_TYPE), None)

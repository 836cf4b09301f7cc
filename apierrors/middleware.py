"""``APIErrorsMiddleware``: request ids, rate-limit headers, and JSON for errors outside DRF.

Put it first in ``MIDDLEWARE`` so that every response, including those other middleware
produce, passes through it. For each request it

- accepts a valid incoming ``X-Request-ID`` or generates one, exposes it as
  ``request.request_id`` and in a context variable (``apierrors.request_id``) for logging,
  and sends it back on the response;
- copies the rate-limit headers the throttles recorded onto the response, success or not;
- answers exceptions raised by non-DRF views with the envelope (``process_exception``), and
  replaces Django's own non-JSON error pages (the technical 404 of ``DEBUG``, a plain
  ``HttpResponseNotFound``, a CSRF failure page) with the envelope of the same status.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextvars import Token

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext_lazy as _

from apierrors import exceptions as errors
from apierrors import transactions
from apierrors.conf import envelope_settings
from apierrors.handler import ATOMIC_DEPTH_ATTR, get_handler, is_envelope
from apierrors.ratelimit import headers as rate_limit_headers
from apierrors.request_id import accept_or_generate, current_request_id

_BODY_WITHOUT_LENGTH = _(
    "Send the request body with a Content-Length header; a body in chunks is not read."
)

# Headers of a replaced error page that still mean something on the envelope.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "Vary")


def is_excluded(request: HttpRequest) -> bool:
    """Whether ``APIERRORS["EXCLUDE_PATHS"]`` leaves ``request``'s error pages to Django."""
    patterns = envelope_settings().exclude_paths
    return bool(patterns) and any(re.search(pattern, request.path_info) for pattern in patterns)


class APIErrorsMiddleware:
    """Request ids, rate-limit headers and envelopes for errors that bypass DRF.

    Override ``should_rewrite`` to choose which non-envelope error responses are replaced.
    """

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        token = self.begin(request)
        try:
            response = self.refuse_body(request) or self.get_response(request)
            assert isinstance(response, HttpResponseBase)
            return self.finish(request, response)
        finally:
            current_request_id.reset(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        token = self.begin(request)
        try:
            response = self.refuse_body(request) or await self.get_response(request)  # type: ignore[misc]
            return self.finish(request, response)
        finally:
            current_request_id.reset(token)

    def begin(self, request: HttpRequest) -> Token[str | None]:
        # META directly: request.headers would copy every header on first use.
        meta_key = envelope_settings().request_id_meta_key
        request_id = accept_or_generate(request.META.get(meta_key) if meta_key else None)
        request.request_id = request_id  # type: ignore[attr-defined]
        # The handler rolls back only the atomic blocks the request opens itself. Recorded
        # only when some are open already (a test's transaction): a request that finds none
        # pays for nothing more, and the handler reads no record as none.
        opened = transactions.open_blocks()
        if opened:
            setattr(request, ATOMIC_DEPTH_ATTR, opened)
        return current_request_id.set(request_id)

    def refuse_body(self, request: HttpRequest) -> HttpResponse | None:
        """400 VALIDATION_ERROR for a body sent with ``Transfer-Encoding`` (chunked).

        Django and DRF read a body by its ``Content-Length``; without one, the view sees an
        empty body, and a PATCH would answer 200 having changed nothing. Refusing it tells
        the client to send the length. Override to return ``None`` where the server in front
        hands such bodies over whole with their length.
        """
        if not request.META.get("HTTP_TRANSFER_ENCODING") or self.is_excluded(request):
            return None
        error = errors.ValidationError(_BODY_WITHOUT_LENGTH, status=400)
        return get_handler().error_response(error, request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Exceptions from non-DRF views become envelopes (DRF views answer their own)."""
        if self.is_excluded(request):
            return None
        return get_handler().django_response(exception, request)

    def finish(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            response.status_code >= 400
            and not is_envelope(response)  # type: ignore[arg-type]
            and self.should_rewrite(request, response)
        ):
            response = self.rewrite(request, response)
        response[envelope_settings().request_id_header] = request.request_id  # type: ignore[attr-defined]
        rate_limit_headers.send(request, response)
        return response

    def is_excluded(self, request: HttpRequest) -> bool:
        return is_excluded(request)

    def should_rewrite(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """Replace error responses that are not JSON, outside ``EXCLUDE_PATHS``.

        A JSON error body that a non-DRF view built on purpose is left as it is.
        """
        content_type = str(response.get("Content-Type", ""))
        return "json" not in content_type and not self.is_excluded(request)

    def rewrite(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponse:
        error = get_handler().error_for_status(response.status_code)
        replacement = get_handler().error_response(error, request)
        for name in _KEPT_HEADERS:
            if name in response:
                replacement[name] = response[name]
        replacement._has_been_logged = getattr(response, "_has_been_logged", False)  # type: ignore[attr-defined]
        return replacement

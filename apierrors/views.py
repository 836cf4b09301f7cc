"""Envelope answers for Django's own error views.

In the project's root URLconf::

    handler400 = "apierrors.views.bad_request"
    handler403 = "apierrors.views.permission_denied"
    handler404 = "apierrors.views.page_not_found"
    handler500 = "apierrors.views.server_error"

and in settings ``CSRF_FAILURE_VIEW = "apierrors.views.csrf_failure"``.
Django has already logged what needs logging when these run, so they only answer.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apierrors import exceptions as errors
from apierrors.handler import CSRF_FAILED, get_handler


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    handler = get_handler()
    return handler.error_response(handler.convert_bad_request(exception), request)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return get_handler().error_response(errors.Forbidden(), request)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return get_handler().error_response(errors.ResourceNotFound(), request)


def server_error(request: HttpRequest) -> HttpResponse:
    return get_handler().error_response(errors.ServerError(), request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # Django's reason can quote the request's Origin or Referer header, so it is not sent.
    return get_handler().error_response(errors.Forbidden(CSRF_FAILED), request)

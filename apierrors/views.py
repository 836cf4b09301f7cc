"""Envelope answers for Django's own error views.

In the project's root URLconf::

    handler400 = "apierrors.views.bad_request"
    handler403 = "apierrors.views.permission_denied"
    handler404 = "apierrors.views.page_not_found"
    handler500 = "apierrors.views.server_error"

and in settings ``CSRF_FAILURE_VIEW = "apierrors.views.csrf_failure"``.
Django has already logged what needs logging when these run, so they only answer.
On a path ``APIERRORS["EXCLUDE_PATHS"]`` matches (the admin, pages for humans), each hands
over to Django's own view, so those pages stay what Django makes them.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views import csrf, defaults

from apierrors import exceptions as errors
from apierrors.handler import CSRF_FAILED, get_handler
from apierrors.middleware import is_excluded


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_excluded(request):
        return defaults.bad_request(request, exception or BadRequest())
    handler = get_handler()
    return handler.error_response(handler.convert_bad_request(exception), request)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_excluded(request):
        return defaults.permission_denied(request, exception or PermissionDenied())
    return get_handler().error_response(errors.Forbidden(), request)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_excluded(request):
        return defaults.page_not_found(request, exception)
    return get_handler().error_response(errors.ResourceNotFound(), request)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_excluded(request):
        return defaults.server_error(request)
    return get_handler().error_response(errors.ServerError(), request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_excluded(request):
        return csrf.csrf_failure(request, reason)
    # Django's reason can quote the request's Origin or Referer header, so it is not sent.
    return get_handler().error_response(errors.Forbidden(CSRF_FAILED), request)

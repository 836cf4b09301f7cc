from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ExplodingMiddleware:
    """Raises before the view when the request asks for it, as a buggy middleware would."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_X_BOOM" in request.META:
            raise RuntimeError("middleware secret /srv/app")
        return self.get_response(request)

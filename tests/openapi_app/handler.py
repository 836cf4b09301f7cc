"""The handler with the problem-details hook, until apierrors.handler carries it itself.

It applies ``apierrors.problem.negotiate`` and ``vary_on_accept`` at the two places the
handler builds a response, exactly as ``ExceptionHandler`` is to do.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response

from apierrors import exceptions as errors
from apierrors import problem
from apierrors.handler import ExceptionHandler, mark


class ProblemDetailsHandler(ExceptionHandler):
    def build_response(
        self, error: errors.ApiError, body: dict[str, Any], request: Request | None
    ) -> Response:
        response = super().build_response(error, body, request)
        data, content_type = problem.negotiate(
            body, error.status_code, self.django_request(request)
        )
        response.data = data
        response.content_type = content_type
        problem.vary_on_accept(response)
        return response

    def error_response(self, error: errors.ApiError, request: HttpRequest | None) -> HttpResponse:
        body, content_type = problem.negotiate(
            self.format(error, request), error.status_code, request
        )
        response = JsonResponse(body, status=error.status_code, content_type=content_type)
        for name, value in self.headers(error, request).items():
            response[name] = value
        problem.vary_on_accept(response)
        mark(response)
        return response

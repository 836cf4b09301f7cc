"""Pagination of the sandbox's lists: ``?page=2&pageSize=50``."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.request import Request

from apierrors.exceptions import ResourceNotFound

_DIGITS = re.compile(r"[0-9]+")


class PageNumberPagination(pagination.PageNumberPagination):
    """``{"count", "next", "previous", "results"}``, 20 per page, at most 100.

    A page past the end (or not a number) is 404 RESOURCE_NOT_FOUND, and so is a
    ``pageSize`` that is not a whole number from 1 up; one above 100 reads as 100. DRF
    would answer other values with the default size, and ``page=last`` with the last page,
    neither of which the schema (integers from 1) lets a client expect.
    """

    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100
    # Lazy, as DRF's own message; its stubs declare a plain str.
    invalid_page_message = _("This page does not exist.")  # type: ignore[assignment]
    last_page_strings = ()

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        digits = raw.lstrip("0")
        if not _DIGITS.fullmatch(raw) or not digits:
            raise ResourceNotFound(_("pageSize must be a whole number from 1 up."))
        # Compared as text first: a number of thousands of digits is not worth converting.
        if len(digits) > len(str(self.max_page_size)):
            return self.max_page_size
        return min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page, {self.page_size} by default; more than "
                    f"{self.max_page_size} reads as {self.max_page_size}."
                )
        return parameters

"""Pagination of the sandbox's lists: ``?page=2&pageSize=50``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``{"count", "next", "previous", "results"}``, 20 per page, at most 100.

    A page past the end (or not a number) is 404 RESOURCE_NOT_FOUND.
    """

    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100
    invalid_page_message = _("This page does not exist.")

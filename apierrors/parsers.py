"""A JSON parser that answers bodies nested too deep to decode as 400, not 500.

Python's decoder raises ``RecursionError`` (not ``ValueError``) on a body nested deeper
than the interpreter's recursion limit, which DRF's parser does not convert; left alone it
becomes a 500. Use this parser in its place::

    REST_FRAMEWORK = {"DEFAULT_PARSER_CLASSES": ["apierrors.parsers.JSONParser", ...]}

The system check ``apierrors.W003`` points at DRF's parser where it is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """``rest_framework.parsers.JSONParser`` that refuses bodies nested too deep to decode."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The request body is nested too deeply.")) from None

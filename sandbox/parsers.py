"""The sandbox's JSON parser: DRF's, with nesting too deep to decode answered as 400.

Python's decoder raises ``RecursionError`` (not ``ValueError``) on a body nested deeper
than the interpreter's recursion limit, which DRF's parser does not convert; left alone it
would become a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

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
            raise ParseError("JSON parse error - the body is nested too deeply.") from None

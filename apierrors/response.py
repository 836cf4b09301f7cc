"""``EnvelopeResponse``: the DRF ``Response`` an error envelope is answered with.

It is a ``Response`` like any other (DRF negotiates its renderer, ``process_template_response``
middleware may change its ``data`` before it is rendered, tests read ``response.data``), and
it renders the same bytes, with less work where DRF's generic paths spend it on what an
envelope never needs:

- building it: DRF's ``Response`` goes through ``SimpleTemplateResponse``, which sets an
  empty *text* content, encoded with the charset read from the settings; an empty *byte*
  content is the same thing without that work. The attributes are those ``Response`` sets
  (``tests/test_response.py`` compares them);
- rendering it with DRF's own ``JSONRenderer`` (the envelope is always JSON): without an
  ``indent`` (in the accepted media type or the renderer context), the renderer's
  ``json.dumps`` is a call to one JSON encoder kept per configuration, with the renderer's
  own ``ensure_ascii``, ``compact``, ``strict`` and ``encoder_class``, and the same escapes
  of U+2028 and U+2029. Any other renderer, an ``indent``, an encoder class with an
  ``__init__``, ``encode`` or ``iterencode`` of its own (or not a class), or a patch of
  ``JSONRenderer.render``/``get_indent`` or of the ``dumps`` it calls (made before or after
  this module is imported) renders through DRF.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, TypeVar

from django.http import HttpResponse
from rest_framework import renderers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils import json as drf_json

# The separators JSONRenderer uses without an indent (rest_framework.compat).
SHORT_SEPARATORS = (",", ":")
LONG_SEPARATORS = (", ", ": ")
JSON_MEDIA_TYPE = "application/json"

_F = TypeVar("_F")


def _defined_in(function: _F, module: str, qualname: str) -> _F | None:
    """``function`` when ``module`` defines it as ``qualname``, else ``None``: a project's
    patch made before this module is imported is defined elsewhere."""
    if (
        getattr(function, "__qualname__", None) == qualname
        and getattr(function, "__globals__", {}).get("__name__") == module
    ):
        return function
    return None


# What JSONRenderer.render runs; rendered_content compares them with what is in place.
_DRF_JSON_RENDER = _defined_in(
    JSONRenderer.render, "rest_framework.renderers", "JSONRenderer.render"
)
_DRF_GET_INDENT = _defined_in(
    JSONRenderer.get_indent, "rest_framework.renderers", "JSONRenderer.get_indent"
)
_DRF_DUMPS = _defined_in(drf_json.dumps, "rest_framework.utils.json", "dumps")
_JSON_DUMPS = _defined_in(json.dumps, "json", "dumps")


def _drf_json_in_place() -> bool:
    """Whether ``JSONRenderer`` renders with DRF's own code (nothing patched)."""
    return (
        JSONRenderer.render is _DRF_JSON_RENDER
        and JSONRenderer.get_indent is _DRF_GET_INDENT
        and renderers.json.dumps is _DRF_DUMPS  # type: ignore[attr-defined]
        and json.dumps is _JSON_DUMPS
    )


@lru_cache(maxsize=16)
def _encoder(
    encoder_class: Any, ensure_ascii: bool, allow_nan: bool, compact: bool
) -> json.JSONEncoder | None:
    """The encoder ``json.dumps`` builds for these arguments, kept; ``None`` when
    ``encoder_class`` is not a ``JSONEncoder`` that differs from json's only in ``default``
    (its own ``__init__`` could depend on the arguments ``dumps`` passes, or on the time
    it is called)."""
    if not (
        isinstance(encoder_class, type)
        and issubclass(encoder_class, json.JSONEncoder)
        and encoder_class.__init__ is json.JSONEncoder.__init__
        and encoder_class.encode is json.JSONEncoder.encode
        and encoder_class.iterencode is json.JSONEncoder.iterencode
    ):
        return None
    return encoder_class(
        ensure_ascii=ensure_ascii,
        allow_nan=allow_nan,
        separators=SHORT_SEPARATORS if compact else LONG_SEPARATORS,
    )


class EnvelopeResponse(Response):
    """A DRF ``Response`` holding an envelope; see the module's docstring."""

    def __init__(
        self,
        data: Any = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        # SimpleTemplateResponse.__init__, without a template.
        self.template_name = None  # type: ignore[assignment]
        self.context_data = None
        self.using = None
        self._post_render_callbacks: list[Any] = []
        self._request = None  # type: ignore[assignment]
        HttpResponse.__init__(self, b"", status=status)
        self._is_rendered = False
        # Response.__init__.
        self.data = data
        self.exception = False
        self.content_type = content_type
        if headers:
            for name, value in headers.items():
                self[name] = value

    @property
    def rendered_content(self) -> Any:
        renderer = getattr(self, "accepted_renderer", None)
        if type(renderer) is not JSONRenderer:
            return super().rendered_content
        # Response.rendered_content, with a kept encoder for JSONRenderer.render's dumps.
        accepted_media_type = getattr(self, "accepted_media_type", None)
        context = getattr(self, "renderer_context", None)
        assert accepted_media_type, ".accepted_media_type not set on Response"
        assert context is not None, ".renderer_context not set on Response"
        context["response"] = self
        content_type = self.content_type
        if content_type is None:
            charset = renderer.charset
            media_type = renderer.media_type
            content_type = media_type if charset is None else f"{media_type}; charset={charset}"
        self["Content-Type"] = content_type
        data = self.data
        encoder = None
        if (
            # JSONRenderer.get_indent: only the media type's parameters or the context's
            # "indent" ask for one, and "application/json" has no parameters.
            accepted_media_type == JSON_MEDIA_TYPE
            and context.get("indent") is None
            and type(data) is dict
            and _drf_json_in_place()
        ):
            encoder = _encoder(
                renderer.encoder_class,  # type: ignore[arg-type]
                renderer.ensure_ascii,
                not renderer.strict,
                renderer.compact,
            )
        if encoder is None:
            ret: bytes = renderer.render(data, accepted_media_type, context)
        else:
            text = encoder.encode(data)
            # JSONRenderer.render's escapes, for a JavaScript-safe literal.
            ret = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
        if not ret:
            del self["Content-Type"]
        return ret

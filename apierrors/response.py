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
  of U+2028 and U+2029. Any other renderer, or an ``indent``, renders through DRF.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

# The separators JSONRenderer uses without an indent (rest_framework.compat).
SHORT_SEPARATORS = (",", ":")
LONG_SEPARATORS = (", ", ": ")
JSON_MEDIA_TYPE = "application/json"

_DRF_JSON_RENDER = JSONRenderer.render
_DRF_GET_INDENT = JSONRenderer.get_indent


@lru_cache(maxsize=16)
def _encoder(
    encoder_class: type[json.JSONEncoder], ensure_ascii: bool, allow_nan: bool, compact: bool
) -> json.JSONEncoder | None:
    """The encoder ``json.dumps`` builds for these arguments, kept; ``None`` when
    ``encoder_class`` changes how it encodes (beyond ``default``)."""
    if (
        encoder_class.encode is not json.JSONEncoder.encode
        or encoder_class.iterencode is not json.JSONEncoder.iterencode
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
            and JSONRenderer.render is _DRF_JSON_RENDER
            and JSONRenderer.get_indent is _DRF_GET_INDENT
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

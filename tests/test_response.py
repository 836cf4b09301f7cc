"""EnvelopeResponse is DRF's Response, with the same attributes, headers and bytes."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apierrors.response import EnvelopeResponse

BODY = {
    "error": {
        "code": "VALIDATION_ERROR",
        "message": 'Ça ne va pas: \u2028 \u2029 "quoted" \\ </script> 😀',
        "requestId": "req_0123456789abcdef01234567",
        "details": [{"field": "items[0].name", "code": "INVALID_FORMAT", "message": "x"}],
        "retryAfter": 3,
    }
}


class CamelRenderer(JSONRenderer):
    """A project's JSON renderer: rendered by itself."""

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return b"camel:" + super().render(data, accepted_media_type, renderer_context)


def rendered(
    cls: type[Response],
    data: Any = BODY,
    *,
    renderer: Any = None,
    media_type: str = "application/json",
    context: dict[str, Any] | None = None,
    content_type: str | None = "application/json",
) -> Response:
    response = cls(data, status=404, headers={"Retry-After": "3"}, content_type=content_type)
    response.accepted_renderer = renderer or JSONRenderer()
    response.accepted_media_type = media_type
    response.renderer_context = {} if context is None else context  # type: ignore[attr-defined]
    rendered: Response = response.render()
    return rendered


def test_built_like_a_response():
    ours = EnvelopeResponse(BODY, status=404, headers={"Retry-After": "3"})
    drf = Response(BODY, status=404, headers={"Retry-After": "3"})
    assert isinstance(ours, Response)
    assert vars(ours).keys() == vars(drf).keys()
    for name, value in vars(drf).items():
        if name not in {"headers", "cookies"}:
            assert getattr(ours, name) == value, name
    assert dict(ours.headers) == dict(drf.headers)
    assert list(ours.headers) == list(drf.headers)
    assert not ours._is_rendered


@pytest.mark.parametrize(
    ("options", "settings_changed"),
    [
        ({}, {}),
        ({"media_type": "application/json; indent=4"}, {}),
        ({"context": {"indent": 2}}, {}),
        ({"context": {"indent": 0}}, {}),
        ({"content_type": None}, {}),
        ({"content_type": "application/problem+json"}, {}),
        ({"renderer": CamelRenderer()}, {}),
        ({"data": None}, {}),
        ({"data": ["a list"]}, {}),
        ({}, {"ensure_ascii": True}),
        ({}, {"compact": False}),
        ({}, {"strict": False}),
    ],
)
def test_rendered_like_a_response(monkeypatch, options, settings_changed):
    for name, value in settings_changed.items():
        monkeypatch.setattr(JSONRenderer, name, value)
    drf = rendered(Response, **options)
    ours = rendered(EnvelopeResponse, **options)
    assert ours.content == drf.content
    assert ours.status_code == drf.status_code
    assert list(ours.items()) == list(drf.items())


def test_a_float_and_a_lazy_string_go_through_drfs_encoder():
    from django.utils.translation import gettext_lazy

    data = {"error": {"message": gettext_lazy("Not found."), "ratio": 0.5}}
    assert rendered(EnvelopeResponse, data).content == rendered(Response, data).content


def test_template_response_middleware_may_change_the_data_before_rendering():
    response = EnvelopeResponse({"error": {"code": "A"}}, status=400)
    response.data = {"error": {"code": "B"}}
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = "application/json"
    response.renderer_context = {}  # type: ignore[attr-defined]
    assert response.render().content == b'{"error":{"code":"B"}}'

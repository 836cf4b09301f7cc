"""EnvelopeResponse is DRF's Response, with the same attributes, headers and bytes."""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from apierrors.response import EnvelopeResponse
from tests.fixtures.sandbox_server import ROOT

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


class DefaultsEncoder(JSONEncoder):
    """An encoder with defaults of its own, which ``json.dumps``'s arguments override."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("sort_keys", True)
        kwargs.setdefault("indent", 1)
        super().__init__(*args, **kwargs)


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
        ({}, {"encoder_class": DefaultsEncoder}),
        # Not a class (as a class attribute, wrapped as Python 3.13 asks of a partial).
        ({}, {"encoder_class": staticmethod(functools.partial(JSONEncoder, sort_keys=True))}),
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


def test_drfs_own_json_renderer_renders_through_the_kept_encoder(monkeypatch):
    from apierrors import response as module

    assert module._drf_json_in_place()
    calls: list[Any] = []

    def render(*args: Any) -> bytes:
        calls.append(args)
        return b""

    monkeypatch.setattr(JSONRenderer, "render", render)
    assert rendered(EnvelopeResponse).content == rendered(Response).content == b""
    assert len(calls) == 2  # a patch made afterwards is honoured too
    monkeypatch.undo()
    assert rendered(EnvelopeResponse).content == rendered(Response).content
    assert module._encoder(JSONEncoder, True, False, True) is not None

    # A function defined elsewhere is not DRF's, whatever its name says.
    def impostor() -> None:
        pass

    impostor.__qualname__ = "JSONRenderer.render"
    assert module._defined_in(impostor, "rest_framework.renderers", "JSONRenderer.render") is None


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


# A project that patches JSONRenderer (in its settings, or an app's ready()) does so before
# apierrors.response is first imported (the middleware loads after setup): its patch holds.
PATCHED_BEFORE_IMPORT = textwrap.dedent(
    """
    import django
    from django.conf import settings

    settings.configure()
    django.setup()
    import json
    from rest_framework.renderers import JSONRenderer
    from rest_framework.utils import json as drf_json

    patch = sys.argv[1]
    if patch == "render":
        drf_render = JSONRenderer.render

        def render(self, data, accepted_media_type=None, renderer_context=None):
            return drf_render(self, data, accepted_media_type, renderer_context) + b"\\n"

        JSONRenderer.render = render
    elif patch == "get_indent":
        JSONRenderer.get_indent = lambda self, accepted_media_type, renderer_context: 2
    elif patch == "drf_dumps":
        drf_json.dumps = lambda data, **kwargs: json.dumps(data, sort_keys=True, **kwargs)
    elif patch == "dumps":
        stdlib_dumps = json.dumps
        json.dumps = lambda data, **kwargs: stdlib_dumps(data, **kwargs) + " "
    from rest_framework.response import Response
    from apierrors.response import EnvelopeResponse

    for cls in (Response, EnvelopeResponse):
        response = cls({"error": {"code": "X", "a": 1}}, status=400)
        response.accepted_renderer = JSONRenderer()
        response.accepted_media_type = "application/json"
        response.renderer_context = {}
        print(response.render().content)
    """
)


@pytest.mark.parametrize("patch", ["render", "get_indent", "drf_dumps", "dumps"])
def test_a_patch_made_before_apierrors_is_imported_is_honoured(patch):
    done = subprocess.run(
        [sys.executable, "-c", "import sys\n" + PATCHED_BEFORE_IMPORT, patch],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    drf, ours = done.stdout.splitlines()
    assert ours == drf

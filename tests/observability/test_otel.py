"""OpenTelemetry: attributes and events on the current span, read back through the SDK's
in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from apierrors.contrib import otel
from tests.throttle_app.helpers import set_rates

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.throttle_app.fixtures"]

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("tests")


@pytest.fixture(autouse=True)
def receivers() -> Iterator[None]:
    otel.install()
    exporter.clear()
    yield
    otel.uninstall()


def traced(client, path: str):
    """One request inside a server span, as the Django instrumentation would make it."""
    with tracer.start_as_current_span("GET", kind=SpanKind.SERVER):
        response = client.get(path)
    (span,) = exporter.get_finished_spans()
    exporter.clear()
    return response, span


def test_error_code_and_status_on_the_span(api_client):
    response, span = traced(api_client, "/t/drf/not_found/")
    assert span.attributes["error.type"] == "RESOURCE_NOT_FOUND"
    assert span.attributes["http.response.status_code"] == 404
    assert span.attributes[otel.REQUEST_ID] == response["X-Request-ID"]
    # A 4xx is the client's doing: a server span's status stays unset.
    assert span.status.status_code is StatusCode.UNSET


def test_unexpected_error_marks_the_span_and_records_the_exception(api_client):
    response, span = traced(api_client, "/t/django/boom/")
    assert response.status_code == 500
    assert span.attributes["error.type"] == "SERVER_ERROR"
    assert span.status.status_code is StatusCode.ERROR
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "RuntimeError"


def test_rate_limit_outcome_and_refusal_event(api_client, clock, redis_store, settings):
    set_rates(settings, user="1/minute")
    response, span = traced(api_client, "/t/throttle/user/")
    # An allowed check is the hot path: it leaves the span alone.
    assert response.status_code == 200
    assert not [key for key in span.attributes if key.startswith("apierrors.")]
    assert not span.events

    response, span = traced(api_client, "/t/throttle/user/")
    assert response.status_code == 429
    assert span.attributes["apierrors.ratelimit.allowed"] is False
    assert span.attributes["apierrors.ratelimit.scope"] == "user"
    assert span.attributes["apierrors.ratelimit.remaining"] == 0
    assert span.attributes["error.type"] == "RATE_LIMIT_EXCEEDED"
    assert span.attributes["http.response.status_code"] == 429
    (event,) = [e for e in span.events if e.name == otel.REFUSED_EVENT]
    assert event.attributes["apierrors.ratelimit.scope"] == "user"
    assert event.attributes["apierrors.ratelimit.limit"] == 1
    assert event.attributes["apierrors.ratelimit.reset"] == int(response["X-RateLimit-Reset"])
    assert span.attributes[otel.REQUEST_ID] == response["X-Request-ID"]


def test_no_span_no_work(api_client):
    # Outside any span the receivers leave everything alone (and nothing is exported).
    assert api_client.get("/t/drf/not_found/").status_code == 404
    assert exporter.get_finished_spans() == ()


def test_a_server_error_raised_on_purpose_records_no_exception(api_client):
    response, span = traced(api_client, "/t/code/SERVER_ERROR/")
    assert response.status_code == 500
    assert span.status.status_code is StatusCode.ERROR
    assert not span.events  # no bug to show: the view answered 500 deliberately

"""JSON log lines: every record of a request carries its request id, route and error code."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from apierrors.logging import RequestContextFilter, json_formatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines(settings) -> Iterator[io.StringIO]:
    settings.MIDDLEWARE = [
        settings.MIDDLEWARE[0],
        "apierrors.logging.LogContextMiddleware",
        *settings.MIDDLEWARE[1:],
    ]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(json_formatter())
    loggers = [logging.getLogger(n) for n in ("tests.testapp", "django.request", "django.server")]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_records_of_an_error_request(api_client, json_lines):
    response = api_client.get("/t/drf/not_found/")
    request_id = response["X-Request-ID"]
    records = parsed(json_lines)
    # The view's own record (before the error) and Django's "Not Found" (after the middleware).
    assert [r["logger"] for r in records] == ["tests.testapp", "django.request"]
    for record in records:
        assert record["request_id"] == request_id
        assert record["route"] == "t/drf/<str:name>/"
        assert {"time", "level", "message"} <= set(record)
        assert "request" not in record
    assert records[0]["message"] == "about to raise not_found"
    assert records[1]["error_code"] == "RESOURCE_NOT_FOUND"
    assert records[1]["status_code"] == 404
    assert records[1]["level"] == "WARNING"


def test_unexpected_error_carries_the_traceback(api_client, json_lines):
    response = api_client.get("/t/django/boom/")
    (record,) = parsed(json_lines)
    assert record["request_id"] == response["X-Request-ID"]
    assert record["route"] == "t/django/<str:name>/"
    assert "RuntimeError" in record["exc_info"]


def test_runserver_access_line_names_the_request(api_client, json_lines):
    response = api_client.get("/t/code/FORBIDDEN/")
    # runserver logs its access line in the same thread, once the response has left.
    logging.getLogger("django.server").info(
        '"%s" %s %s', "GET /t/code/FORBIDDEN/ HTTP/1.1", "403", "120"
    )
    access = parsed(json_lines)[-1]
    assert access["logger"] == "django.server"
    assert access["request_id"] == response["X-Request-ID"]
    assert access["route"] == "t/code/<str:code>/"
    assert access["error_code"] == "FORBIDDEN"


def test_outside_a_request(json_lines):
    logging.getLogger("tests.testapp").warning("idle")
    (record,) = parsed(json_lines)
    assert (record["request_id"], record["route"], record["error_code"]) == ("-", "-", "-")


def test_trace_ids_join_logs_and_traces(api_client, json_lines):
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("tests")
    with tracer.start_as_current_span("GET") as span:
        api_client.get("/t/drf/not_found/")
    records = parsed(json_lines)
    assert {r["trace_id"] for r in records} == {format(span.get_span_context().trace_id, "032x")}


def test_runserver_access_line_of_a_request_the_middleware_never_saw(api_client, json_lines):
    # On a kept-alive connection runserver serves the next request in the same thread; one
    # answered before LogContextMiddleware (a chunked body refused, WhiteNoise's static
    # files, a CORS preflight) must not be logged as the one before it.
    first = api_client.get("/t/code/FORBIDDEN/")
    refused = api_client.post(
        "/t/code/FORBIDDEN/",
        b"{}",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert refused.status_code == 400
    logging.getLogger("django.server").info(
        '"%s" %s %s', "POST /t/code/FORBIDDEN/ HTTP/1.1", "400", "120"
    )
    access = parsed(json_lines)[-1]
    assert access["logger"] == "django.server"
    assert access["request_id"] != first["X-Request-ID"]
    assert (access["route"], access["error_code"]) == ("-", "-")


@pytest.mark.urls("tests.observability.root_urls")
def test_the_root_route_is_logged_as_it_is(api_client, json_lines):
    api_client.get("/")
    records = parsed(json_lines)
    assert [r["route"] for r in records] == ["", ""]
    assert records[-1]["error_code"] == "RESOURCE_NOT_FOUND"


@pytest.mark.urls("tests.observability.async_urls")
def test_concurrent_async_requests_keep_their_own_context(json_lines):
    client = AsyncClient()

    async def concurrently() -> list[Any]:
        return list(await asyncio.gather(*(client.get(f"/interleaved/{n}/") for n in range(4))))

    responses = async_to_sync(concurrently)()
    records = [r for r in parsed(json_lines) if r["logger"] == "tests.testapp"]
    assert len(records) == 8
    # Each request's two records, however they interleave, carry its id and nobody else's.
    by_id: dict[str, list[str]] = {response["X-Request-ID"]: [] for response in responses}
    for record in records:
        by_id[record["request_id"]].append(record["message"])
        assert record["route"] == "interleaved/<int:n>/"
    assert all(messages == ["before", "after"] for messages in by_id.values())
    logging.getLogger("tests.testapp").info("idle")
    assert parsed(json_lines)[-1]["request_id"] == "-"

from __future__ import annotations

import logging

import pytest

from apierrors.logging import RequestIDFilter
from apierrors.request_id import current_request_id

pytestmark = pytest.mark.django_db


def make_record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "msg", (), None)
    record.__dict__.update(extra)
    return record


def test_filter_uses_the_current_request_id():
    token = current_request_id.set("req_abc")
    try:
        record = make_record()
        assert RequestIDFilter().filter(record) is True
        assert vars(record)["request_id"] == "req_abc"
    finally:
        current_request_id.reset(token)


def test_filter_default_outside_a_request():
    record = make_record()
    RequestIDFilter().filter(record)
    assert vars(record)["request_id"] == "-"
    record = make_record()
    RequestIDFilter(default="none").filter(record)
    assert vars(record)["request_id"] == "none"


def test_filter_keeps_an_explicit_request_id():
    record = make_record(request_id="given")
    RequestIDFilter().filter(record)
    assert vars(record)["request_id"] == "given"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIDFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def collected():
    handler = Collect()
    loggers = [logging.getLogger("tests.testapp"), logging.getLogger("django.request")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def test_every_record_of_a_request_carries_its_id(api_client, collected):
    response = api_client.get("/t/drf/not_found/", HTTP_X_REQUEST_ID="trace-42")
    assert response.status_code == 404
    # The view's own record, and Django's "Not Found" record written after the middleware.
    names = [(r.name, r.request_id) for r in collected.records]
    assert ("tests.testapp", "trace-42") in names
    assert ("django.request", "trace-42") in names
    assert all(request_id == "trace-42" for _, request_id in names)

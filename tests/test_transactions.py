"""The atomic blocks open when a request begins, from the connections each thread keeps."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from apierrors import transactions

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_thread_state():
    transactions.forget()
    yield
    transactions.forget()


def test_nothing_open_is_nothing_recorded():
    connection.ensure_connection()
    assert transactions.open_blocks() == {}
    assert transactions.scan() == {}


def test_an_open_block_is_recorded_with_its_depth():
    transactions.open_blocks()  # the thread keeps its connections
    with transaction.atomic():
        assert transactions.open_blocks() == {"default": 1}
        with transaction.atomic():
            assert transactions.open_blocks() == {"default": 2}
    assert transactions.open_blocks() == {}


def test_a_replaced_connection_object_is_the_one_kept():
    transactions.open_blocks()
    previous = connections["default"]
    replacement = connections.create_connection("default")
    connections["default"] = replacement
    try:
        with transaction.atomic():  # the replacement connects in this thread
            assert transactions.open_blocks() == {"default": 1}
        assert transactions.open_blocks() == {}
    finally:
        replacement.close()
        connections["default"] = previous


def _connect_a_copy() -> None:
    """A second connection under the default alias connects, then closes (as in tests)."""
    other = connection.copy()
    try:
        other.ensure_connection()
    finally:
        other.close()


def test_a_copy_connecting_under_a_kept_alias_does_not_hide_the_threads_own():
    # connection.copy() (Django's way to a second connection in tests) has the same alias;
    # its connecting must not make the blocks open on the thread's own connection unseen.
    connection.ensure_connection()
    transactions.open_blocks()
    _connect_a_copy()
    with transaction.atomic():
        assert transactions.open_blocks() == transactions.scan() == {"default": 1}


def test_a_request_after_a_copy_leaves_the_callers_transaction_usable(api_client):
    from tests.testapp.models import Thing

    api_client.get("/t/plain/")  # this thread keeps its connections
    _connect_a_copy()
    with transaction.atomic():
        Thing.objects.create(name="before-the-request")
        assert api_client.get("/t/drf/uncaught/").status_code == 500
        assert list(Thing.objects.values_list("name", flat=True)) == ["before-the-request"]


def test_each_thread_keeps_its_own():
    found: dict[str, Any] = {}

    def other_thread() -> None:
        # Kept from the thread's first call, before it has any connection; the one it
        # opens afterwards is added when it connects (connection_created).
        found["before"] = transactions.open_blocks()
        with transaction.atomic():
            found["inside"] = transactions.open_blocks()
        found["after"] = transactions.open_blocks()
        connections.close_all()

    with transaction.atomic():
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert transactions.open_blocks() == {"default": 1}
    assert found == {"before": {}, "inside": {"default": 1}, "after": {}}


def test_under_a_running_event_loop_the_scan_decides(monkeypatch):
    calls: list[bool] = []

    def scan() -> dict[str, int]:
        calls.append(True)
        return {}

    monkeypatch.setattr(transactions, "scan", scan)

    async def in_loop() -> dict[str, int]:
        return transactions.open_blocks()

    assert asyncio.run(in_loop()) == {}
    assert calls == [True]

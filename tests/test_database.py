"""Database errors a concurrent client can cause are answered 409, never 500.

The foreign-key tests run on the suite's database (SQLite, or PostgreSQL with DATABASE_URL);
the deadlock and serialization tests need PostgreSQL and two real connections. They use
``transaction=True``: the view's transaction must really commit (foreign keys are checked
at COMMIT) and the other thread must see what it commits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection, connections
from django.db import transaction as db_transaction

from apierrors.database import Conflict, classify, is_unique_violation
from apierrors.handler import ExceptionHandler
from tests.test_handler import envelope_of
from tests.testapp.models import Holder, Thing
from tests.testapp.views import RenameTwoView

REFERENCE_MESSAGE = "The request refers to a resource that does not exist or is still in use."
CONCURRENT_MESSAGE = "The request conflicted with a concurrent one. Please retry."
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"
)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        # MySQL / MariaDB, as mysqlclient raises them (Django keeps the driver's args).
        (IntegrityError(1062, "Duplicate entry 'a' for key 'name'"), Conflict.UNIQUE),
        (IntegrityError(1452, "Cannot add or update a child row"), Conflict.FOREIGN_KEY),
        (IntegrityError(1451, "Cannot delete or update a parent row"), Conflict.FOREIGN_KEY),
        (OperationalError(1213, "Deadlock found when trying to get lock"), Conflict.RETRYABLE),
        (IntegrityError(1048, "Column 'name' cannot be null"), None),
        (OperationalError(2006, "MySQL server has gone away"), None),
        # SQLite's messages.
        (IntegrityError("UNIQUE constraint failed: testapp_thing.name"), Conflict.UNIQUE),
        (IntegrityError("FOREIGN KEY constraint failed"), Conflict.FOREIGN_KEY),
        (IntegrityError("NOT NULL constraint failed: testapp_thing.name"), None),
        (OperationalError("database is locked"), None),
    ],
)
def test_classify_by_error_number_and_message(error, kind):
    assert classify(error) is kind
    assert is_unique_violation(error) is (kind is Conflict.UNIQUE)


class SqlstateError(Exception):
    """The attribute psycopg 3 gives every server error."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__("message")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        ("23505", Conflict.UNIQUE),
        ("23503", Conflict.FOREIGN_KEY),
        ("40P01", Conflict.RETRYABLE),
        ("40001", Conflict.RETRYABLE),
        ("23502", None),
        ("57014", None),
    ],
)
def test_classify_by_sqlstate_whatever_the_message(sqlstate, kind):
    error = IntegrityError("FOREIGN KEY constraint failed")
    error.__cause__ = SqlstateError(sqlstate)
    assert classify(error) is kind


@pytest.mark.parametrize(
    ("error", "status", "code", "retry_after"),
    [
        (IntegrityError("FOREIGN KEY constraint failed"), 409, "RESOURCE_CONFLICT", None),
        (OperationalError(1213, "Deadlock found"), 409, "RESOURCE_CONFLICT", 1),
        (IntegrityError("NOT NULL constraint failed: t.name"), 500, "SERVER_ERROR", None),
        (DatabaseError("server closed the connection unexpectedly"), 500, "SERVER_ERROR", None),
    ],
)
def test_conversion(error, status, code, retry_after):
    converted = ExceptionHandler().convert(error)
    assert (converted.status_code, converted.code, converted.retry_after) == (
        status,
        code,
        retry_after,
    )
    assert "constraint" not in converted.message


@pytest.mark.django_db(transaction=True)
def test_foreign_key_violation_is_409_and_rolled_back(api_client):
    response = api_client.post("/t/things/987654/holders/")
    error = envelope_of(response, 409, "RESOURCE_CONFLICT")
    assert error["message"] == REFERENCE_MESSAGE
    assert "retryAfter" not in error
    assert "Retry-After" not in response
    assert not Thing.objects.exists()  # the audit row went with the transaction
    assert not Holder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_foreign_key_violation_at_commit_of_atomic_requests_is_409(api_client, monkeypatch):
    # With ATOMIC_REQUESTS the view's block is a savepoint: the constraint, deferred on
    # PostgreSQL and SQLite, is checked at the request's COMMIT, after DRF's handler has
    # returned. APIErrorsMiddleware answers it.
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    response = api_client.post("/t/things/987654/holders/")
    error = envelope_of(response, 409, "RESOURCE_CONFLICT")
    assert error["message"] == REFERENCE_MESSAGE
    assert not Thing.objects.exists()


def in_other_connection(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    """A thread that runs ``work`` in a database connection of its own."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported to the test, which asserts on it
            failures.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run, daemon=True), failures


def names(*pks: int) -> list[str]:
    return [Thing.objects.get(pk=pk).name for pk in pks]


def assert_concurrent_conflict(response) -> None:
    error = envelope_of(response, 409, "RESOURCE_CONFLICT")
    assert error["message"] == CONCURRENT_MESSAGE
    assert error["retryAfter"] == 1
    assert response["Retry-After"] == "1"


@pytest.mark.postgres
@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_deadlock_is_409_with_retry_after_after_rollback(api_client, monkeypatch):
    a, b = Thing.objects.create(name="a").pk, Thing.objects.create(name="b").pk
    other_has_b = threading.Event()

    def other() -> None:
        with db_transaction.atomic(), connection.cursor() as cursor:
            # The view's backend must be the one that finds the deadlock: it waits 1 s
            # (PostgreSQL's default deadlock_timeout), this one far longer.
            cursor.execute("SET LOCAL deadlock_timeout = '30s'")
            Thing.objects.filter(pk=b).update(name="other-b")
            other_has_b.set()
            Thing.objects.filter(pk=a).update(name="other-a")  # waits for the view's lock

    thread, failures = in_other_connection(other)

    def meanwhile() -> None:
        thread.start()
        assert other_has_b.wait(10)

    monkeypatch.setattr(RenameTwoView, "meanwhile", staticmethod(meanwhile))
    response = api_client.post(f"/t/things/{a}/{b}/rename/")
    thread.join(10)
    assert_concurrent_conflict(response)
    # The view's transaction was rolled back, which let the other one finish.
    assert not thread.is_alive()
    assert failures == []
    assert names(a, b) == ["other-a", "other-b"]


@pytest.mark.postgres
@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_serialization_failure_is_409_with_retry_after_after_rollback(api_client, monkeypatch):
    a, b = Thing.objects.create(name="a").pk, Thing.objects.create(name="b").pk

    def other() -> None:
        Thing.objects.filter(pk=b).update(name="other-b")

    def meanwhile() -> None:
        # Commits a change to b after the view's REPEATABLE READ snapshot was taken.
        thread, failures = in_other_connection(other)
        thread.start()
        thread.join(10)
        assert failures == []

    monkeypatch.setattr(RenameTwoView, "meanwhile", staticmethod(meanwhile))
    response = api_client.post(f"/t/things/{a}/{b}/rename/?isolation=repeatable-read")
    assert_concurrent_conflict(response)
    assert names(a, b) == ["a", "other-b"]


@pytest.mark.django_db(transaction=True)
def test_rename_view_succeeds_without_a_concurrent_transaction(api_client):
    # The same view, alone: the conflicts above come from the concurrency, not the view.
    a, b = Thing.objects.create(name="a").pk, Thing.objects.create(name="b").pk
    assert api_client.post(f"/t/things/{a}/{b}/rename/").status_code == 204
    assert names(a, b) == [f"view-{a}", f"view-{b}"]


def test_handler_still_offers_the_unique_check():
    from apierrors import handler

    assert handler.is_unique_violation is is_unique_violation

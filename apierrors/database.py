"""Database errors a client can cause, told apart on PostgreSQL, SQLite and MySQL/MariaDB.

Django wraps each driver's exception in its own ``IntegrityError``, ``OperationalError``, ...
and keeps the driver's as ``__cause__``; the kind is read from there: PostgreSQL's SQLSTATE
(psycopg 3's ``sqlstate``, psycopg2's ``pgcode``), MySQL's error number (``args[0]``), and
for SQLite, which has neither, the message of an ``IntegrityError``.

| kind | PostgreSQL | MySQL / MariaDB | SQLite |
| --- | --- | --- | --- |
| ``UNIQUE`` | 23505 | 1062 | ``UNIQUE constraint failed`` |
| ``FOREIGN_KEY`` | 23503 | 1451, 1452 | ``FOREIGN KEY constraint failed`` |
| ``RETRYABLE`` (deadlock, serialization failure) | 40P01, 40001 | 1213 | |
"""

from __future__ import annotations

import enum

from django.db import IntegrityError


class Conflict(str, enum.Enum):
    """What a database error says about the request that met it."""

    UNIQUE = "unique"
    """A unique constraint refused the row."""
    FOREIGN_KEY = "foreign_key"
    """The row refers to one that does not exist (or no longer does), or a row still
    referred to was deleted."""
    RETRYABLE = "retryable"
    """A deadlock or a serialization failure: a concurrent transaction won, the same
    request may succeed when sent again."""


SQLSTATES: dict[str, Conflict] = {
    "23505": Conflict.UNIQUE,
    "23503": Conflict.FOREIGN_KEY,
    "40P01": Conflict.RETRYABLE,
    "40001": Conflict.RETRYABLE,
}
MYSQL_ERRORS: dict[int, Conflict] = {
    1062: Conflict.UNIQUE,  # ER_DUP_ENTRY
    1451: Conflict.FOREIGN_KEY,  # ER_ROW_IS_REFERENCED_2
    1452: Conflict.FOREIGN_KEY,  # ER_NO_REFERENCED_ROW_2
    1213: Conflict.RETRYABLE,  # ER_LOCK_DEADLOCK
}
# SQLite's messages, and MySQL's when the driver's error number is lost.
MESSAGES: dict[str, Conflict] = {
    "UNIQUE constraint failed": Conflict.UNIQUE,
    "Duplicate entry": Conflict.UNIQUE,
    "FOREIGN KEY constraint failed": Conflict.FOREIGN_KEY,
}


def classify(exc: BaseException) -> Conflict | None:
    """The kind of ``exc``, a database error, or ``None`` for any other failure (a NOT NULL
    or CHECK violation, a lost connection: a bug or an outage, not the client's doing)."""
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate is not None:
        return SQLSTATES.get(str(sqlstate))
    args = getattr(cause, "args", ()) or exc.args
    if args and isinstance(args[0], int):
        return MYSQL_ERRORS.get(args[0])
    if isinstance(exc, IntegrityError):
        text = str(exc)
        return next((kind for start, kind in MESSAGES.items() if start in text), None)
    return None


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a database error is a unique-constraint violation."""
    return classify(exc) is Conflict.UNIQUE

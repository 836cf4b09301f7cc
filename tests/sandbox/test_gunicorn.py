"""The sandbox under gunicorn: several worker processes share one Redis-backed quota.

Two workers serve a migrated, seeded SQLite database; threads hit the token endpoint (10 per
minute per address) 30 times at once. Exactly 10 requests are admitted wherever they land,
and the headers of every answer agree with each other.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from tests.fixtures.sandbox_server import prepare_database, start_sandbox

ATTEMPTS = 30
LIMIT = 10
pytestmark = pytest.mark.slow


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, object]


@pytest.fixture
def gunicorn(tmp_path: Path, redis_url: str) -> Iterator[int]:
    """The sandbox under ``gunicorn sandbox.wsgi`` with two workers; yields its port."""
    server = start_sandbox(tmp_path, prepare_database(tmp_path), redis_url, workers=2)
    try:
        yield server.port
    finally:
        server.stop()


def ask_for_token(port: int) -> Answer:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token/",
        data=json.dumps({"username": "demo", "password": "demo-password"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Answer(response.status, dict(response.headers), json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), json.loads(error.read()))


def wait_for_a_fresh_minute() -> None:
    # The token quota is a fixed window aligned to the minute; a burst that straddles two
    # windows would fairly be admitted twice. The burst takes a second or two; start it at
    # least ten seconds before a minute ends.
    second = time.time() % 60
    if second > 50:
        time.sleep(60 - second + 0.5)


def test_workers_share_one_exact_quota(gunicorn):
    wait_for_a_fresh_minute()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: ask_for_token(gunicorn), range(ATTEMPTS)))

    admitted = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.status == 429]
    assert len(admitted) == LIMIT
    assert len(refused) == ATTEMPTS - LIMIT

    resets = {a.headers["X-RateLimit-Reset"] for a in answers}
    assert len(resets) == 1
    reset = int(resets.pop())
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {str(LIMIT)}
    # Each admitted request saw a different count: the workers never raced on the quota.
    assert sorted(int(a.headers["X-RateLimit-Remaining"]) for a in admitted) == list(range(LIMIT))
    for answer in admitted:
        assert set(answer.body) == {"access", "refresh"}
    for answer in refused:
        error = answer.body["error"]
        assert isinstance(error, dict)
        assert error["code"] == "RATE_LIMIT_EXCEEDED"
        assert error["requestId"] == answer.headers["X-Request-ID"]
        assert answer.headers["X-RateLimit-Remaining"] == "0"
        retry_after = int(answer.headers["Retry-After"])
        assert error["retryAfter"] == retry_after
        assert 1 <= retry_after <= 60
        # Retry-After points at the end of the window the reset header names.
        assert abs(reset - (answer_time(answer) + retry_after)) <= 2


def answer_time(answer: Answer) -> int:
    return int(parsedate_to_datetime(answer.headers["Date"]).timestamp())

"""Redis outages under load: the sandbox under gunicorn (two workers) on a private
redis-server that is stopped, or frozen, while clients keep calling a throttled view.

Fail-open (the default): no 500, every request answered, throttling back by itself once
Redis is, one warning per worker per ``OUTAGE_LOG_INTERVAL`` (not one per request), and
the outage adds at most the socket timeout to the few requests that still try Redis while
the circuit breaker is open. Fail-closed: 503 SERVICE_UNAVAILABLE envelopes, then recovery.
Timings are asserted only generously (many times the expected figure); the point is that
no request waits for the operating system's TCP timeout.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.sandbox_server import (
    SandboxServer,
    issue_token,
    prepare_database,
    start_sandbox,
)
from tests.fixtures.services import RedisServer, start_redis
from tests.outage.load import Load, quantile

pytestmark = pytest.mark.slow

WORKERS = 2
SOCKET_TIMEOUT = 0.25  # the store timeout these sandboxes run with (THROTTLE_STORE_TIMEOUT)
BREAKER_COOLDOWN = 5.0  # apierrors' default
RATES = "user=1000000/hour,anon=1000000/hour,token=5/hour"
WARNING = "Rate-limit store 'default' is unavailable"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    directory = tmp_path_factory.mktemp("outage")
    database = prepare_database(directory)
    return directory, database, issue_token(database)


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    if server.process is not None:
        server.resume()
    server.stop()


def serve(
    template: tuple[Path, Path, str], redis: RedisServer, name: str, **env: str
) -> Iterator[tuple[SandboxServer, dict[str, str]]]:
    directory, database, token = template
    # Only environment variables: no key names one of start_sandbox's own parameters.
    # The library's default store timeout: these tests measure what an outage costs with it.
    environment: dict[str, Any] = {
        "SANDBOX_THROTTLE_RATES": RATES,
        "SANDBOX_THROTTLE_STORE_TIMEOUT": str(SOCKET_TIMEOUT),
        **env,
    }
    server = start_sandbox(
        directory,
        database,
        redis.url,
        workers=WORKERS,
        name=name,
        **environment,
    )
    try:
        yield server, {"Authorization": f"Bearer {token}"}
    finally:
        server.stop()


@pytest.fixture
def fail_open(template, redis, request) -> Iterator[tuple[SandboxServer, dict[str, str]]]:
    yield from serve(template, redis, f"open-{request.node.name}")


@pytest.fixture
def fail_closed(template, redis) -> Iterator[tuple[SandboxServer, dict[str, str]]]:
    yield from serve(template, redis, "closed", SANDBOX_FAIL_OPEN="0")


def run_outage(
    server: SandboxServer, headers: dict[str, str], begin: object, end: object
) -> tuple[Load, float, float, float | None]:
    """Load, then ``begin()`` the outage for 3 s, then ``end()`` it; returns the load, the
    outage's start and end, and how long after the end the rate-limit headers came back."""
    load = Load(server.port, "/api/v1/segments/", headers).start()
    try:
        time.sleep(1.5)
        outage_start = time.monotonic()
        begin()  # type: ignore[operator]
        time.sleep(3.0)
        outage_end = time.monotonic()
        end()  # type: ignore[operator]
        recovered = load.wait_for(lambda s: s.limit is not None, BREAKER_COOLDOWN + 10)
        time.sleep(1.0)
    finally:
        load.stop()
    return load, outage_start, outage_end, recovered


def warnings_in(server: SandboxServer) -> int:
    return server.log_text().count(WARNING)


def assert_throttle_enforced(server: SandboxServer) -> None:
    """The token endpoint (5 per hour per address on a fresh Redis) refuses the sixth."""
    statuses = []
    for _ in range(7):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request(
            "POST",
            "/api/v1/auth/token/",
            body=json.dumps({"username": "demo", "password": "wrong"}),
            headers={"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        body = json.loads(response.read())
        statuses.append(response.status)
        if response.status == 429:
            assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
            assert int(response.getheader("Retry-After", "")) >= 1
        connection.close()
    assert statuses == [401] * 5 + [429] * 2


def test_fail_open_through_a_stopped_redis(fail_open, redis):
    server, headers = fail_open
    load, start, end, recovered = run_outage(server, headers, redis.stop, redis.start)

    assert {s.status for s in load.samples} == {200}, "every request answered, none refused"
    # Answered before the outage began (a request in flight at that moment may meet it).
    before = [s for s in load.between(0, start) if s.started + s.latency < start]
    during = load.between(start + 0.05, end)
    assert before
    assert all(s.limit == "1000000" for s in before)
    assert len(during) > 20
    assert sum(s.limit is None for s in during) > len(during) / 2
    # Throttling comes back by itself, within a breaker cooldown or two.
    assert recovered is not None
    assert all(s.limit is not None for s in load.between(time.monotonic() - 0.8, time.monotonic()))
    # One warning per worker for the whole outage, not one per request.
    assert 1 <= warnings_in(server) <= WORKERS
    # A refused connection fails at once: the outage adds next to nothing.
    assert statistics.median(s.latency for s in during) < SOCKET_TIMEOUT
    assert "Internal Server Error" not in server.log_text()
    assert_throttle_enforced(server)


def test_fail_open_through_a_frozen_redis(fail_open, redis):
    server, headers = fail_open
    load, start, end, recovered = run_outage(server, headers, redis.pause, redis.resume)

    assert {s.status for s in load.samples} == {200}
    before = [s.latency for s in load.between(0, start)]
    during = [s.latency for s in load.between(start + 0.05, end)]
    assert len(during) > 20
    # A frozen Redis costs one socket timeout per attempt; with the breaker open (after
    # three failures in a worker) requests skip Redis, so most add nothing.
    assert max(during) < 4 * SOCKET_TIMEOUT + 1.0, "no request waited for a TCP timeout"
    assert statistics.median(during) < SOCKET_TIMEOUT + 0.1
    assert quantile(during, 0.9) < SOCKET_TIMEOUT + 0.25
    slow = [latency for latency in during if latency >= SOCKET_TIMEOUT]
    assert len(slow) <= len(during) / 4
    print(
        f"latency before: median {statistics.median(before) * 1000:.1f} ms; "
        f"frozen Redis: median {statistics.median(during) * 1000:.1f} ms, "
        f"p90 {quantile(during, 0.9) * 1000:.1f} ms, max {max(during) * 1000:.0f} ms, "
        f"{len(slow)} of {len(during)} requests >= the socket timeout"
    )
    assert recovered is not None
    assert 1 <= warnings_in(server) <= WORKERS
    # The frozen Redis kept its data; the token quota is whole, nothing was posted to it.
    assert_throttle_enforced(server)


def test_fail_closed_answers_503_then_recovers(fail_closed, redis):
    server, headers = fail_closed
    load, start, end, recovered = run_outage(server, headers, redis.stop, redis.start)

    statuses = {s.status for s in load.samples}
    assert statuses <= {200, 503}, statuses
    during = load.between(start + 0.05, end)
    assert len(during) > 20
    refused = [s for s in during if s.status == 503]
    assert len(refused) > len(during) / 2
    assert {s.code for s in refused} == {"SERVICE_UNAVAILABLE"}
    assert statistics.median(s.latency for s in during) < SOCKET_TIMEOUT
    assert recovered is not None
    tail = load.between(time.monotonic() - 0.8, time.monotonic())
    assert tail
    assert {s.status for s in tail} == {200}
    assert 1 <= warnings_in(server) <= WORKERS
    assert "Internal Server Error" not in server.log_text()


def test_a_503_envelope_carries_retry_after(fail_closed, redis):
    server, headers = fail_closed
    redis.stop()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/api/v1/segments/", headers=headers)
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 503
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["requestId"] == response.getheader("X-Request-ID")
    assert body["error"]["retryAfter"] == int(response.getheader("Retry-After", "")) >= 1
    redis.start()

"""The sandbox under gunicorn with two workers, in prometheus_client's multiprocess mode: a
scripted mix of requests, then one scrape of /metrics whose every apierrors counter must
equal what the responses said. The access log names each request's id."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.urls import resolve
from prometheus_client.parser import text_string_to_metric_families

from apierrors.signals import ROUTE_UNMATCHED
from tests.fixtures.sandbox_server import prepare_database, start_sandbox

pytestmark = pytest.mark.slow

TOKEN_LIMIT = 5
ACCESS_FORMAT = "access %(m)s %(U)s %(s)s %({x-request-id}o)s"


def call(port: int, method: str, path: str, body: dict[str, Any] | None = None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def route(path: str) -> str:
    try:
        return resolve(path).route
    except Exception:
        return ROUTE_UNMATCHED


def test_scraped_counters_match_what_was_sent(tmp_path: Path, redis_url: str):
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    server = start_sandbox(
        tmp_path,
        prepare_database(tmp_path),
        redis_url,
        workers=2,
        gunicorn_args=("--access-logfile", "-", "--access-logformat", ACCESS_FORMAT),
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
        SANDBOX_THROTTLE_RATES=f"token={TOKEN_LIMIT}/minute",
    )
    try:
        second = time.time() % 60
        if second > 45:  # the token window is aligned to the minute
            time.sleep(60 - second + 0.5)
        script: list[tuple[str, str, dict[str, Any] | None]] = [
            ("POST", "/api/v1/auth/token/", {"username": "demo", "password": p})
            for p in ["demo-password", "wrong"] * 4
        ]
        script += [("GET", "/api/v1/campaigns/", None)] * 3
        script += [("GET", "/no/such/page/", None)] * 4
        script += [("GET", "/api/v1/campaigns/999999/", None)] * 2
        answers = [(path, *call(server.port, method, path, body)) for method, path, body in script]
        # Sequential requests may all reach one worker: pairs sent at once until both have
        # answered (and so written their own files), each pair counted like the rest.
        for _ in range(50):
            if len(list(multiproc.glob("counter_*.db"))) >= 2:
                break
            with ThreadPoolExecutor(max_workers=2) as pool:
                pair = list(pool.map(lambda _i: call(server.port, "GET", "/no/such/page/"), [0, 1]))
            answers += [("/no/such/page/", *answer) for answer in pair]
        # Served by both workers, the startup probes included (they are counted too).
        status, headers, text = call(server.port, "GET", "/metrics")
        assert status == 200
        families = {f.name: f for f in text_string_to_metric_families(text.decode())}
    finally:
        server.stop()

    sent_errors: Counter[tuple[str, str, str]] = Counter()
    for path, status, _headers, body in answers:
        if status >= 400:
            sent_errors[json.loads(body)["error"]["code"], str(status), route(path)] += 1
    statuses = Counter(status for _path, status, _h, _b in answers)
    assert statuses[429] == 8 - TOKEN_LIMIT

    scraped_errors = Counter(
        {
            (s.labels["code"], s.labels["status"], s.labels["route"]): int(s.value)
            for s in families["apierrors_error_responses"].samples
            if s.name.endswith("_total")
        }
    )
    # start_sandbox's readiness probes asked for the campaigns list, unauthenticated: the
    # access log counts them.
    log = server.log_text()
    probes = log.count("access GET /api/v1/campaigns/ 401 ") - 3
    assert probes >= 1
    sent_errors["UNAUTHORIZED", "401", route("/api/v1/campaigns/")] += probes
    assert scraped_errors == sent_errors

    decisions = {
        (s.labels["scope"], s.labels["outcome"]): int(s.value)
        for s in families["apierrors_throttle_decisions"].samples
        if s.name.endswith("_total")
    }
    # The campaigns views refuse anonymous callers before their throttles (user and anon)
    # run, and the handler runs those throttles for the refusal.
    campaigns = 5 + probes
    assert decisions == {
        ("token", "allowed"): TOKEN_LIMIT,
        ("token", "denied"): 8 - TOKEN_LIMIT,
        ("user", "allowed"): campaigns,
        ("anon", "allowed"): campaigns,
    }
    latency = {
        s.labels["store"]: s.value
        for s in families["apierrors_ratelimit_store_latency_seconds"].samples
        if s.name.endswith("_count")
    }
    assert latency == {"default": 8 + 2 * campaigns}
    usage = [
        s for s in families["apierrors_throttle_usage_ratio"].samples if s.name.endswith("_count")
    ]
    assert {s.labels["scope"]: s.value for s in usage} == {
        "token": TOKEN_LIMIT,
        "user": campaigns,
        "anon": campaigns,
    }
    breaker = families["apierrors_ratelimit_breaker_open"].samples
    assert {s.labels["store"]: s.value for s in breaker} == {"default": 0}

    # Both workers answered: the multiprocess files of two pids were summed.
    assert len(list(multiproc.glob("counter_*.db"))) == 2

    for path, _status, headers, _body in answers:
        assert f"{path} {_status} {headers['X-Request-ID']}" in log

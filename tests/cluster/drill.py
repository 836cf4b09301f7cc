"""Requests to the drill view (``tests.cluster.urls``), sorted by what the throttle did."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from rest_framework.test import APIClient

DRILL = "/drill/"


def answer(client_name: str) -> tuple[str, float]:
    """One request as ``client_name``: ``counted``, ``passed``, ``refused`` (and its time)."""
    client = APIClient(raise_request_exception=False)
    started = time.monotonic()
    response = client.get(DRILL, HTTP_X_CLIENT=client_name)
    took = time.monotonic() - started
    if response.status_code == 429 or (
        response.status_code == 200 and "X-RateLimit-Limit" in response.headers
    ):
        return "counted" if response.status_code == 429 else "admitted", took
    if response.status_code == 200:
        return "passed", took
    if response.status_code == 503:
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE", response.content
        return "refused", took
    raise AssertionError(f"{response.status_code}: {response.content!r}")


def hammer(names: list[str], times: int, threads: int = 8) -> dict[str, Counter[str]]:
    """``times`` requests per client, from ``threads`` threads; the answers per client."""
    work = [name for _ in range(times) for name in names]
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(lambda name: (name, answer(name)[0]), work))
    seen: dict[str, Counter[str]] = {name: Counter() for name in names}
    for name, kind in answers:
        seen[name][kind] += 1
    return seen

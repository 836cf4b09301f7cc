"""Allowed-path cost of one throttle check: apierrors's throttles, DRF's, and a bare PING.

Run from the project root::

    .venv/bin/python bench/throttle.py                      # starts a private redis-server
    .venv/bin/python bench/throttle.py --redis-url redis://127.0.0.1:6379/15

Every figure comes from one run on one Redis: per case, the mean cost of one
``allow_request`` call (or one PING) over many calls that are all allowed, and the median
of that over several rounds. The cases take turns in short batches, so that a noisy moment
on the machine weighs on all of them alike.

- apierrors: ``UserRateLimitThrottle`` with the store's own clock (Redis ``TIME``), the
  production path. Requests rotate over 256 client addresses, and keys are renamed before
  any client reaches its limit, so every call is allowed; the first call of a key in a
  window starts the window, the others are the common case.
- DRF: ``UserRateThrottle`` through the same django-redis cache. Its cost grows with the
  history it keeps, so it runs in steady state, as for a client just under the limit: the
  history is pre-filled with 99% of ``limit`` timestamps and the clock advances so that
  each call drops one timestamp and adds one, and is always allowed.
- PING: ``redis.Redis.ping()`` on the django-redis client, the floor of any Redis round
  trip through redis-py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


GENERATIONS = itertools.count()
PREFIX = f"apierrors-bench-{os.getpid()}"


def start_redis() -> tuple[str, subprocess.Popen[bytes]]:
    executable = shutil.which("redis-server")
    if executable is None:
        sys.exit("redis-server is not on PATH; pass --redis-url instead.")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="apierrors-bench-")
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return f"redis://127.0.0.1:{port}/0", process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    sys.exit("redis-server did not start")


def configure(redis_url: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "apierrors"],
        CACHES={
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_url,
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
            }
        },
        REST_FRAMEWORK={"DEFAULT_AUTHENTICATION_CLASSES": [], "UNAUTHENTICATED_USER": None},
        # Keys of their own, removed at the end: --redis-url may name a Redis in use.
        APIERRORS={"THROTTLE_KEY_PREFIX": PREFIX},
    )
    django.setup()


def requests(count: int) -> list[Any]:
    """DRF requests from ``count`` client addresses, authentication already resolved."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    factory = APIRequestFactory()
    made = []
    for i in range(count):
        address = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        request = Request(factory.get("/", REMOTE_ADDR=address))
        _ = request.user
        made.append(request)
    return made


Case = Callable[[int], None]
"""Runs ``n`` more allowed checks."""


def ours(rates: tuple[str, ...], algorithm: str) -> Case:
    from apierrors.ratelimit.rates import parse_rate
    from apierrors.throttling import UserRateLimitThrottle

    class Throttle(UserRateLimitThrottle):
        pass

    Throttle.rates = rates
    Throttle.algorithm = algorithm
    # Clients take turns; before any reaches its smallest limit, every key is renamed.
    smallest = min(parse_rate(rate).limit for rate in rates)
    clients = requests(256)
    per_generation = len(clients) * (smallest - 1)
    view = object()
    state = {"calls": per_generation}

    def run(n: int) -> None:
        calls = state["calls"]
        for _ in range(n):
            if calls == per_generation:
                Throttle.cache_format = f"g{next(GENERATIONS)}_%(scope)s_%(ident)s"
                calls = 0
            throttle = Throttle()
            if not throttle.allow_request(clients[calls % 256], view):  # type: ignore[arg-type]
                raise SystemExit(f"apierrors {rates} denied a call; the figures would be wrong")
            calls += 1
        state["calls"] = calls

    return run


def drf(rate: str) -> Case:
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    from apierrors.ratelimit.rates import parse_rate

    parsed = parse_rate(rate)
    # Steady state: a client just under the limit, whose history holds `size` timestamps
    # (1% of margin, so that float rounding at the window's edge never makes it `limit`).
    size = parsed.limit - 1 - max(1, parsed.limit // 100)
    step = parsed.period / size
    clock = {"now": 2_000_000_000.0}

    class Throttle(UserRateThrottle):
        scope = f"{PREFIX}-drf-{parsed.limit}-{parsed.period}"

    Throttle.rate = f"{parsed.limit}/{ {1: 's', 60: 'm', 3600: 'h', 86400: 'd'}[parsed.period] }"
    Throttle.timer = staticmethod(lambda: clock["now"])  # type: ignore[assignment]
    request = requests(1)[0]
    view = object()
    key = Throttle().get_cache_key(request, view)  # type: ignore[arg-type]
    now = clock["now"]
    cache.set(key, [now - step * (k + 1) for k in range(size)], parsed.period)

    def run(n: int) -> None:
        for _ in range(n):
            clock["now"] += step
            throttle = Throttle()
            if not throttle.allow_request(request, view):  # type: ignore[arg-type]
                raise SystemExit(f"DRF {rate} denied a call; the figures would be wrong")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="use this Redis instead of a private one")
    parser.add_argument("--iterations", type=int, default=5000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds; the median is kept")
    parser.add_argument("--batch", type=int, default=50, help="calls per turn of a case")
    parser.add_argument("--json", help="also write the figures to this file (bench/plot.py)")
    options = parser.parse_args()

    process = None
    url = options.redis_url
    if url is None:
        url, process = start_redis()
    try:
        configure(url)
        cost = measure(options.iterations, options.rounds, options.batch)
        if options.json:
            Path(options.json).write_text(json.dumps(cost, indent=2) + "\n")
    finally:
        if process is not None:
            process.terminate()
            process.wait()


def measure(iterations: int, rounds: int, batch: int) -> dict[str, float]:
    from django_redis import get_redis_connection

    client = get_redis_connection("default")

    def ping(n: int) -> None:
        for _ in range(n):
            client.ping()

    rates = ("60/min", "1000/hour", "10000/day")
    both = ("60/min", "10000/day")
    cases: dict[str, Case] = {"redis-py PING": ping}
    for label, algorithm in (("fixed window", "fixed_window"), ("GCRA", "gcra")):
        for rate in rates:
            cases[f"apierrors {label} {rate}"] = ours((rate,), algorithm)
        cases[f"apierrors {label} {' + '.join(both)}"] = ours(both, algorithm)
    for rate in rates:
        cases[f"DRF SimpleRateThrottle {rate}"] = drf(rate)

    for run in cases.values():  # warm up: connections, script cache, lru caches
        run(batch)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        spent = dict.fromkeys(cases, 0.0)
        # Every case runs a short batch in turn, so that a noisy moment on the machine
        # (other processes, CPU frequency) weighs on all of them alike.
        for _ in range(iterations // batch):
            for name, run in cases.items():
                started = time.perf_counter()
                run(batch)
                spent[name] += time.perf_counter() - started
        for name, seconds in spent.items():
            samples[name].append(seconds / (iterations // batch * batch) * 1e6)
    cost = {name: statistics.median(values) for name, values in samples.items()}
    for key in client.scan_iter(match=f"*{PREFIX}*", count=1000):
        client.delete(key)
    report(cost, client, iterations, rounds, rates)
    return cost


def report(
    cost: dict[str, float], client: Any, iterations: int, rounds: int, rates: tuple[str, ...]
) -> None:
    ping_cost = cost["redis-py PING"]
    print(
        f"Redis {client.info('server')['redis_version']}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; {iterations} calls per case per round, median of {rounds} rounds"
    )
    print(f"{'case':44} {'us/check':>9} {'x PING':>7}")
    for name, value in cost.items():
        print(f"{name:44} {value:9.1f} {value / ping_cost:7.2f}")
    print()
    for rate in rates:
        theirs = cost[f"DRF SimpleRateThrottle {rate}"]
        for label in ("fixed window", "GCRA"):
            mine = cost[f"apierrors {label} {rate}"]
            print(f"DRF / apierrors {label} at {rate}: {theirs / mine:.1f}x faster")
    worst = max(v for k, v in cost.items() if k.startswith("apierrors")) / ping_cost
    print(f"slowest apierrors case: {worst:.2f}x PING")


if __name__ == "__main__":
    main()

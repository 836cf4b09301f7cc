"""What metrics and tracing add to the error path and the throttle path.

Run from the project root::

    .venv/bin/python bench/observability.py                  # starts a private redis-server
    .venv/bin/python bench/observability.py --multiprocess   # prometheus_client's mmap files
    .venv/bin/python bench/observability.py --redis-url redis://127.0.0.1:6379/15

Two paths, each timed with the observability receivers off (no receiver connected: the
signals return at once) and on (``apierrors.contrib.prometheus`` and
``apierrors.contrib.otel`` installed):

- error: a DRF view raising ``NotFound``, dispatched and rendered (as in
  ``bench/handler.py``);
- throttle: ``UserRateLimitThrottle.allow_request()`` on Redis, always allowed, clients
  rotating over 256 addresses (as in ``bench/throttle.py``);
- throttled: a DRF view with that throttle, answering 200, dispatched and rendered.

Tracing is on in both modes: each call runs inside a recording span of the OpenTelemetry SDK,
as under the Django instrumentation, so that the difference is apierrors' own work (its
attributes and events), not the span's. The modes take turns in batches; each round gives
one ratio on/off per path, and the figure is the median over the rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup(redis_url: str, multiprocess: bool) -> None:
    if multiprocess:
        # Read by prometheus_client when it is first imported.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="apierrors-prom-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["REDIS_URL"] = redis_url
    import django

    django.setup()


def error_case() -> Callable[[int], None]:
    from rest_framework import exceptions
    from rest_framework.request import Request
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    class BenchView(APIView):
        authentication_classes: list[Any] = []
        permission_classes: list[Any] = []

        def get(self, request: Request) -> Response:
            raise exceptions.NotFound("Campaign 42 does not exist.")

    view = BenchView.as_view()
    factory = APIRequestFactory()

    def run(n: int) -> None:
        for _ in range(n):
            with TRACER.start_as_current_span("GET"):
                view(factory.get("/bench/")).render()

    return run


def throttle_case() -> Callable[[int], None]:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from apierrors.throttling import UserRateLimitThrottle

    class BenchThrottle(UserRateLimitThrottle):
        scope = "bench"
        rate = "1000000000/day"

    factory = APIRequestFactory()
    requests = [
        Request(factory.get("/bench/", REMOTE_ADDR=f"10.9.{i // 256}.{i % 256}"))
        for i in range(256)
    ]
    throttle = BenchThrottle()

    def run(n: int) -> None:
        for i in range(n):
            with TRACER.start_as_current_span("GET"):
                assert throttle.allow_request(requests[i % 256], None)  # type: ignore[arg-type]

    return run


def throttled_view_case() -> Callable[[int], None]:
    from rest_framework.request import Request
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView

    from apierrors.throttling import UserRateLimitThrottle

    class BenchThrottle(UserRateLimitThrottle):
        scope = "bench"
        rate = "1000000000/day"

    class BenchView(APIView):
        authentication_classes: list[Any] = []
        permission_classes: list[Any] = []
        throttle_classes = [BenchThrottle]

        def get(self, request: Request) -> Response:
            return Response({"ok": True})

    view = BenchView.as_view()
    factory = APIRequestFactory()
    addresses = [f"10.8.{i // 256}.{i % 256}" for i in range(256)]

    def run(n: int) -> None:
        for i in range(n):
            with TRACER.start_as_current_span("GET"):
                view(factory.get("/bench/", REMOTE_ADDR=addresses[i % 256])).render()

    return run


def switch(on: bool) -> None:
    from apierrors.contrib import otel, prometheus

    for module in (prometheus, otel):
        if on:
            module.install()
        else:
            module.uninstall()


def measure(case: Callable[[int], None], rounds: int, batches: int, batch: int) -> list[float]:
    """One ratio on/off per round; within a round the modes alternate batch by batch."""
    case(batch)  # warm up: connections, scripts, label children
    switch(True)
    case(batch)
    ratios = []
    for _ in range(rounds):
        spent = {False: 0.0, True: 0.0}
        for b in range(batches):
            for on in (b % 2 == 0, b % 2 == 1):
                switch(on)
                start = time.perf_counter()
                case(batch)
                spent[on] += time.perf_counter() - start
        ratios.append(spent[True] / spent[False])
        per_call = {on: spent[on] / (batches * batch) * 1e6 for on in spent}
        ROUND_FIGURES.append(per_call)
    switch(False)
    return ratios


ROUND_FIGURES: list[dict[bool, float]] = []
TRACER: Any = None


def main() -> None:
    global TRACER
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url")
    parser.add_argument("--multiprocess", action="store_true")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    server = None
    url = args.redis_url
    if url is None:
        from tests.fixtures.services import start_redis

        server = start_redis()
        url = server.url
    try:
        setup(url, args.multiprocess)
        from opentelemetry.sdk.trace import TracerProvider

        TRACER = TracerProvider().get_tracer("bench")
        import prometheus_client

        print(
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, prometheus_client "
            f"{prometheus_client.__name__} ({'multiprocess' if args.multiprocess else 'single'}"
            f" process mode); {args.rounds} rounds of {args.batches} x {args.batch} calls"
        )
        print(f"{'path':<10}{'off us':>9}{'on us':>9}{'on/off':>8}  (median; rounds min-max)")
        cases = (
            ("error", error_case()),
            ("throttle", throttle_case()),
            ("throttled", throttled_view_case()),
        )
        for name, case in cases:
            ROUND_FIGURES.clear()
            ratios = measure(case, args.rounds, args.batches, args.batch)
            off = statistics.median(r[False] for r in ROUND_FIGURES)
            on = statistics.median(r[True] for r in ROUND_FIGURES)
            print(
                f"{name:<10}{off:>9.1f}{on:>9.1f}{statistics.median(ratios):>8.3f}"
                f"  ({min(ratios):.3f}-{max(ratios):.3f})"
            )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

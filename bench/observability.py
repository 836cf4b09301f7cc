"""What metrics and tracing add to the error path and the throttle path.

Run from the project root::

    .venv/bin/python bench/observability.py                  # starts a private redis-server
    .venv/bin/python bench/observability.py --multiprocess   # prometheus_client's mmap files
    .venv/bin/python bench/observability.py --redis-url redis://127.0.0.1:6379/15
    .venv/bin/python bench/observability.py --same           # A/A: the noise floor

Each path is timed with the observability hooks off (none subscribed, no receiver
connected: the send helpers return at once) and on (``apierrors.contrib.prometheus`` and
``apierrors.contrib.otel`` installed):

- error request: a whole request through Django's WSGI handler (apierrors' middleware, URL
  resolution, the DRF view, the exception handler) that answers 404 RESOURCE_NOT_FOUND;
- throttled request: likewise, a view throttled per client on Redis that answers 200;
- error view: a DRF view raising ``NotFound``, dispatched and rendered (as in
  ``bench/handler.py``), without middleware or URL resolution;
- throttled view: a DRF view with a throttle on Redis, answering 200, dispatched;
- allow_request: ``UserRateLimitThrottle.allow_request()`` alone, always allowed, clients
  rotating over 256 addresses (as in ``bench/throttle.py``).

Tracing is on in both modes: each call runs inside a recording span of the OpenTelemetry SDK,
as under the Django instrumentation, so that the difference is apierrors' own work (its
attributes and events), not the span's. The modes take turns batch by batch; each round gives
the median ratio on/off of its pairs of batches, and the figure is the median of the rounds
(with their range). Beside it: the CPU time of this thread per call (off, on, the
difference, and the difference over the wall time off), and the fastest batch of each mode
with their ratio, the least disturbed figure on a shared machine.

``--same`` runs both halves of every pair with the integrations on (an A/A run): any ratio
away from 1 is noise, so its range is the smallest on/off difference this machine, at this
moment, can tell apart.

``--instructions`` counts instead of timing: it runs the two request paths under valgrind's
callgrind (which must be installed; about three minutes), in phases of ``--requests``
requests, off, on, Prometheus alone, OpenTelemetry alone, and two control hooks: one that
does nothing (``noop``: what calling hooks costs) and one that makes only the OpenTelemetry
API calls of an error (``sdk``: find the span, set three attributes); it prints the
instructions per request of each. The count does not depend on the machine's
load, so it is the repeatable figure; each phase starts after a warm-up, a full collection
and ``gc.freeze()`` (so that a collection of the whole heap falls in none), and off and on
are counted twice, the two counts showing what is left of the noise.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
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


def request_case(path: str) -> Callable[[int], None]:
    """A whole request through Django's WSGI handler: middleware, URL, view, handler."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    handler = WSGIHandler()
    factory = RequestFactory()
    environs = [
        factory.get(path, REMOTE_ADDR=f"10.7.{i // 256}.{i % 256}").environ for i in range(256)
    ]

    def start_response(status: str, headers: Any) -> None:
        pass

    def run(n: int) -> None:
        for i in range(n):
            with TRACER.start_as_current_span("GET"):
                response = handler(dict(environs[i % 256]), start_response)
                b"".join(response)
                response.close()  # type: ignore[attr-defined]

    return run


def switch(on: bool) -> None:
    from apierrors.contrib import otel, prometheus

    on = on or SAME
    for module in (prometheus, otel):
        if on:
            module.install()
        else:
            module.uninstall()


def measure(case: Callable[[int], None], rounds: int, batches: int, batch: int) -> list[float]:
    """Per round, the median of the ratios on/off of adjacent batches (the modes alternate
    batch by batch, so a noisy moment weighs on both); one figure per round.

    Wall time and this thread's CPU time are both kept: on a shared machine the CPU time is
    the steadier measure of the work added (a Redis round trip is wall time only).
    """
    case(batch)  # warm up: connections, scripts, label children
    switch(True)
    case(batch)
    ratios = []
    for _ in range(rounds):
        pairs = []
        spent = {(on, clock): 0.0 for on in (False, True) for clock in ("wall", "cpu")}
        for b in range(batches):
            times = {}
            for on in (b % 2 == 0, b % 2 == 1):
                switch(on)
                wall, cpu = time.perf_counter(), time.thread_time()
                case(batch)
                cpu = time.thread_time() - cpu
                times[on] = time.perf_counter() - wall
                spent[on, "wall"] += times[on]
                spent[on, "cpu"] += cpu
                BEST[on] = min(BEST.get(on, float("inf")), times[on] / batch * 1e6)
            pairs.append(times[True] / times[False])
        ratios.append(statistics.median(pairs))
        ROUND_FIGURES.append({key: value / (batches * batch) * 1e6 for key, value in spent.items()})
    switch(False)
    return ratios


# The phases of --instructions: the first is counted and dropped (it differs from the
# others by a few thousand instructions per request, for reasons outside the hooks).
PHASES = ("discarded", "off", "on", "noop", "prometheus", "otel", "sdk", "off", "on")


def sdk_control() -> Callable[..., None]:
    """A control hook: only the calls of the OpenTelemetry API that the error hook makes
    (find the span, set the three attributes), nothing of apierrors' own."""
    from opentelemetry import trace

    def sdk(
        code: str,
        status: int,
        route: str,
        request: Any,
        exception: BaseException | None,
        unexpected: bool,
    ) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attributes(
                {"error.type": code, "http.response.status_code": status, REQUEST_ID: "x"}
            )

    return sdk


def noop(*args: Any) -> None:
    """A control hook that does nothing: what calling the hooks costs."""


REQUEST_ID = "apierrors.request_id"
SDK_CONTROL: Any = None


def only(mode: str) -> None:
    """``switch`` for the phases: both integrations, one of them, the control, or none."""
    global SDK_CONTROL
    from apierrors import signals
    from apierrors.contrib import otel, prometheus

    if SDK_CONTROL is None:
        SDK_CONTROL = sdk_control()

    for name, module in (("prometheus", prometheus), ("otel", otel)):
        if mode in ("on", name):
            module.install()
        else:
            module.uninstall()
    for control, hooks in (("sdk", (SDK_CONTROL,)), ("noop", (noop, noop))):
        signals_ = (signals.error_response, signals.throttle_decision)
        for signal, hook in zip(signals_, hooks, strict=False):
            if mode == control:
                signals.subscribe(signal, hook)
            else:
                signals.unsubscribe(signal, hook)


def count_phases(cases: tuple[tuple[str, Callable[[int], None]], ...], requests: int) -> None:
    """Run under callgrind by ``count_instructions``: each phase lies between a call of
    ``os.getppid`` (the counters are zeroed) and one of ``os.getegid`` (they are dumped);
    nothing else in the process calls either."""
    import gc

    for _, case in cases:
        for mode in PHASES:
            only(mode)
            case(100)
        for mode in PHASES:
            only(mode)
            case(20)
            gc.collect()
            gc.freeze()
            os.getppid()
            case(requests)
            os.getegid()
    only("off")


def count_instructions(args: argparse.Namespace, url: str) -> None:
    import re
    import shutil
    import subprocess

    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (apt-get install valgrind)")
    out = Path(tempfile.mkdtemp(prefix="apierrors-callgrind-"))
    command = [
        "valgrind",
        "--tool=callgrind",
        "--zero-before=os_getppid",
        "--dump-before=os_getegid",
        f"--callgrind-out-file={out / 'callgrind.out'}",
        sys.executable,
        __file__,
        "--count-phases",
        "--redis-url",
        url,
        "--requests",
        str(args.requests),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    counts = []
    for part in range(1, 2 * len(PHASES) + 1):
        text = (out / f"callgrind.out.{part}").read_text()
        found = re.search(r"^summary: (\d+)", text, re.MULTILINE)
        assert found, f"no summary in callgrind.out.{part}"
        counts.append(int(found.group(1)) / args.requests)
    shutil.rmtree(out)
    print(
        f"Python {platform.python_version()}, prometheus_client {version('prometheus_client')}, "
        f"opentelemetry-sdk {version('opentelemetry-sdk')}; instructions per request "
        f"(callgrind, {args.requests} requests a phase)"
    )
    print(
        f"{'path':<18}{'off':>11}{'on':>11}{'on - off':>10}{'on/off':>8}{'noop':>7}"
        f"{'prometheus':>11}{'otel':>8}{'sdk':>8}{'off again':>11}{'on again':>11}"
    )
    for index, name in enumerate(("error request", "throttled request")):
        # In the order of PHASES.
        _, off, on, noop_, prom, otel, sdk, off_again, on_again = counts[
            index * len(PHASES) : (index + 1) * len(PHASES)
        ]
        print(
            f"{name:<18}{off:>11,.0f}{on:>11,.0f}{on - off:>10,.0f}{on / off:>8.4f}"
            f"{noop_ - off:>+7,.0f}{prom - off:>+11,.0f}{otel - off:>+8,.0f}{sdk - off:>+8,.0f}"
            f"{off_again:>11,.0f}{on_again:>11,.0f}"
        )


ROUND_FIGURES: list[dict[tuple[bool, str], float]] = []
# The fastest batch of each mode: on a busy machine, the closest to the code's own cost.
BEST: dict[bool, float] = {}
TRACER: Any = None
SAME = False


def main() -> None:
    global TRACER, SAME
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url")
    parser.add_argument("--multiprocess", action="store_true")
    parser.add_argument("--same", action="store_true", help="A/A: on in both halves")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions under callgrind"
    )
    parser.add_argument("--requests", type=int, default=200, help="per --instructions phase")
    parser.add_argument("--count-phases", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    SAME = args.same

    server = None
    url = args.redis_url
    if url is None:
        from tests.fixtures.services import start_redis

        server = start_redis()
        url = server.url
    try:
        if args.instructions:
            count_instructions(args, url)
            return
        setup(url, args.multiprocess)
        from opentelemetry.sdk.trace import TracerProvider

        TRACER = TracerProvider().get_tracer("bench")
        if args.count_phases:
            logging.disable(logging.WARNING)
            count_phases(
                (
                    ("error request", request_case("/t/code/RESOURCE_NOT_FOUND/")),
                    ("throttled request", request_case("/t/throttle/user/")),
                ),
                args.requests,
            )
            return
        print(
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, prometheus_client "
            f"{version('prometheus_client')} ({'multiprocess' if args.multiprocess else 'single'}"
            f"-process mode); {args.rounds} rounds of {args.batches} x {args.batch} calls"
            + ("; A/A: on in both halves" if SAME else "")
        )
        print(
            f"{'path':<20}{'off us':>9}{'on us':>9}{'on/off':>8}{'rounds':>13}"
            f"{'cpu off':>9}{'cpu on':>9}{'cpu +us':>9}{'cpu/wall':>9}"
            f"{'best off':>9}{'best on':>9}{'ratio':>7}"
        )
        logging.disable(logging.WARNING)  # Django's "Not Found" line for every 404
        cases = (
            ("error request", request_case("/t/code/RESOURCE_NOT_FOUND/")),
            ("throttled request", request_case("/t/throttle/user/")),
            ("error view", error_case()),
            ("throttled view", throttled_view_case()),
            ("allow_request", throttle_case()),
        )
        for name, case in cases:
            ROUND_FIGURES.clear()
            BEST.clear()
            ratios = measure(case, args.rounds, args.batches, args.batch)
            fig = {
                key: statistics.median(r[key] for r in ROUND_FIGURES) for key in ROUND_FIGURES[0]
            }
            added = fig[True, "cpu"] - fig[False, "cpu"]
            print(
                f"{name:<20}{fig[False, 'wall']:>9.1f}{fig[True, 'wall']:>9.1f}"
                f"{statistics.median(ratios):>8.3f}"
                f"  {min(ratios):.3f}-{max(ratios):.3f}"
                f"{fig[False, 'cpu']:>9.1f}{fig[True, 'cpu']:>9.1f}{added:>9.1f}"
                f"{added / fig[False, 'wall']:>9.3f}"
                f"{BEST[False]:>9.1f}{BEST[True]:>9.1f}{BEST[True] / BEST[False]:>7.3f}"
            )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

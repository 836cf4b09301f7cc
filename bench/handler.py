"""In-process cost of an error response: apierrors' handler and middleware vs DRF's default.

Run: .venv/bin/python bench/handler.py [--rounds 7] [--batches 40] [--batch 25]

For three errors (a NotFound, a nested ValidationError with five problems, a Throttled) it
times, in one process, a DRF view that raises the error, dispatched and its response
rendered, for two contenders:

- DRF: the view alone, with DRF's default exception handler;
- apierrors: the same view with apierrors' handler, called through an
  ``APIErrorsMiddleware`` instance wrapped around it (request id, the response's headers),
  as Django's handler calls it: the view's response is rendered before the middleware sees
  it.

A third contender, ``floor``, is DRF's view behind a middleware that does only what the
contract asks of every response, nothing of the envelope: a request id generated, set on
the request and in the context variable, and sent in the ``X-Request-ID`` header
(``--no-floor`` leaves it out). Its ratio to DRF is what a request id alone costs: the part
of apierrors' ratio no handler can win back.

The requests are built before each batch, outside the timed part (a fresh one per call, as
the middleware writes its id on it). The contenders take turns batch by batch, in
alternating order, so that whatever else the machine does weighs on both alike. Each round
gives the median microseconds per response of each side over its batches and the median
of the ratios apierrors / DRF of adjacent batches; the figure is the median of the rounds,
with the range (min-max) of the rounds' ratios. ``cpu`` is the same ratio on this thread's
CPU time (``time.thread_time``), steadier on a shared machine.

The test settings install ``apierrors.contrib.prometheus`` (its counter is the cost of
metrics, which ``bench/observability.py`` measures); it is uninstalled here unless
``--prometheus`` is given, so that the figure is apierrors' handler and middleware alone.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.http import HttpRequest  # noqa: E402
from rest_framework import exceptions, serializers  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.settings import api_settings  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402
from rest_framework.views import APIView  # noqa: E402
from rest_framework.views import exception_handler as drf_exception_handler  # noqa: E402

from apierrors.handler import exception_handler as apierrors_exception_handler  # noqa: E402
from apierrors.middleware import APIErrorsMiddleware  # noqa: E402
from apierrors.request_id import current_request_id, generate  # noqa: E402


class Item(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=5)
    quantity = serializers.IntegerField(min_value=1)


class Order(serializers.Serializer[Any]):
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=["a", "b"])
    items = Item(many=True)


BAD_ORDER = {"kind": "z", "items": [{"name": "far too long", "quantity": 0}, {"name": "ok"}]}


def raise_not_found() -> None:
    raise exceptions.NotFound("Campaign 42 does not exist.")


def raise_validation() -> None:
    Order(data=BAD_ORDER).is_valid(raise_exception=True)


def raise_throttled() -> None:
    raise exceptions.Throttled(wait=42.5)


def make_view(raiser: Callable[[], None], handler: Callable[..., Any]) -> Callable[..., Any]:
    class BenchView(APIView):
        authentication_classes: list[Any] = []
        permission_classes: list[Any] = []

        def get_exception_handler(self) -> Callable[..., Any]:
            return handler

        def get(self, request: Request) -> Response:
            raiser()
            return Response()

    return BenchView.as_view()


Contender = Callable[[HttpRequest], Any]


def rendered(view: Callable[..., Any]) -> Contender:
    """The view, its response rendered, as Django's handler does before the middleware's
    response phase."""

    def get_response(request: HttpRequest) -> Any:
        return view(request).render()

    return get_response


def request_id_only(get_response: Contender) -> Contender:
    """The least a middleware does for the contract's request id: generate it, put it on the
    request and in the context variable, send it in the header."""

    def middleware(request: HttpRequest) -> Any:
        request_id = generate()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        try:
            response = get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            current_request_id.reset(token)

    return middleware


def contenders(raiser: Callable[[], None]) -> dict[str, Contender]:
    return {
        "drf": rendered(make_view(raiser, drf_exception_handler)),
        "apierrors": APIErrorsMiddleware(rendered(make_view(raiser, apierrors_exception_handler))),
        "floor": request_id_only(rendered(make_view(raiser, drf_exception_handler))),
    }


FACTORY = APIRequestFactory()


def run(contender: Contender, batch: int) -> tuple[float, float]:
    """Wall and CPU seconds for ``batch`` responses, each built and rendered."""
    requests = [FACTORY.get("/bench/") for _ in range(batch)]
    wall, cpu = time.perf_counter(), time.thread_time()
    for request in requests:
        contender(request)
    return time.perf_counter() - wall, time.thread_time() - cpu


def measure(sides: dict[str, Contender], rounds: int, batches: int, batch: int) -> dict[str, Any]:
    """Per round: each side's median microseconds per response and, for each side but DRF,
    the median ratio to DRF of adjacent batches (wall and CPU); the order of the sides
    turns from batch to batch. The figures are the medians of the rounds, with the range of
    the rounds' ratios (``low``, ``high``)."""
    names = list(sides)
    others = [name for name in names if name != "drf"]
    for side in sides.values():
        run(side, batch)  # warm up: imports, caches, lazy translations
    per_round: list[dict[str, float]] = []
    for _ in range(rounds):
        micros: dict[str, list[float]] = {name: [] for name in sides}
        ratios: dict[str, list[float]] = {name: [] for name in others}
        cpu_ratios: dict[str, list[float]] = {name: [] for name in others}
        for b in range(batches):
            turn = b % len(names)
            order = names[turn:] + names[:turn]
            if b // len(names) % 2:
                order.reverse()
            wall, cpu = {}, {}
            for name in order:
                wall[name], cpu[name] = run(sides[name], batch)
                micros[name].append(wall[name] / batch * 1e6)
            for name in others:
                ratios[name].append(wall[name] / wall["drf"])
                cpu_ratios[name].append(cpu[name] / cpu["drf"])
        figures = {name: statistics.median(micros[name]) for name in names}
        for name in others:
            figures[f"{name} ratio"] = statistics.median(ratios[name])
            figures[f"{name} cpu"] = statistics.median(cpu_ratios[name])
        per_round.append(figures)
    summary = {key: statistics.median(row[key] for row in per_round) for key in per_round[0]}
    for name in others:
        summary[f"{name} low"] = min(r[f"{name} ratio"] for r in per_round)
        summary[f"{name} high"] = max(r[f"{name} ratio"] for r in per_round)
    return summary


CASES = (
    ("NotFound", raise_not_found),
    ("ValidationError", raise_validation),
    ("Throttled", raise_throttled),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--case", choices=[name for name, _raiser in CASES], action="append")
    parser.add_argument("--prometheus", action="store_true", help="keep the metrics installed")
    parser.add_argument(
        "--no-floor", action="store_true", help="leave out the request-id-only contender"
    )
    parser.add_argument(
        "--only",
        nargs=2,
        metavar=("SIDE", "N"),
        help="no timing: N responses of one side (drf, apierrors, floor, or none: the requests "
        "alone) after 200 to warm up, for instruction counts (docs/performance.md)",
    )
    args = parser.parse_args()
    assert api_settings.EXCEPTION_HANDLER is apierrors_exception_handler
    from apierrors.contrib import prometheus

    if not args.prometheus:
        prometheus.uninstall()
    if args.only:
        side, count = args.only[0], int(args.only[1])
        for name, raiser in CASES:
            if args.case and name not in args.case:
                continue
            # "none" builds the requests and nothing else: its count is subtracted.
            contender = contenders(raiser)[side] if side != "none" else lambda request: None
            run(contender, 200)
            requests = [FACTORY.get("/bench/") for _ in range(count)]
            # Collected once here, the requests are old objects: the collections the
            # responses cause do not walk them again and again (as they would N of them).
            gc.collect()
            for request in requests:
                contender(request)
        return
    print(
        f"Python {platform.python_version()}, Django {django.__version__}; {args.rounds} rounds"
        f" of {args.batches} x {args.batch} responses per side; metrics "
        + ("on" if args.prometheus else "off")
    )
    print(
        f"{'error':<16}{'DRF us':>8}{'apierrors us':>14}{'ratio':>7}{'rounds':>13}{'cpu':>7}"
        + ("" if args.no_floor else f"{'floor us':>10}{'ratio':>7}{'rounds':>13}")
    )
    for name, raiser in CASES:
        if args.case and name not in args.case:
            continue
        sides = contenders(raiser)
        if args.no_floor:
            del sides["floor"]
        fig = measure(sides, args.rounds, args.batches, args.batch)
        line = (
            f"{name:<16}{fig['drf']:>8.1f}{fig['apierrors']:>14.1f}{fig['apierrors ratio']:>7.3f}"
            f"  {fig['apierrors low']:.3f}-{fig['apierrors high']:.3f}{fig['apierrors cpu']:>7.3f}"
        )
        if not args.no_floor:
            line += (
                f"{fig['floor']:>10.1f}{fig['floor ratio']:>7.3f}"
                f"  {fig['floor low']:.3f}-{fig['floor high']:.3f}"
            )
        print(line)


if __name__ == "__main__":
    main()

"""In-process cost of building an error response: apierrors' handler vs DRF's default.

Run: .venv/bin/python bench/handler.py [--rounds 7] [--number 5000]

For three errors (a NotFound, a nested ValidationError with five problems, a Throttled) it
times, in one process and one run, a DRF view dispatch that raises the error and renders
the response, once with DRF's default exception handler and once with apierrors', and
prints the median microseconds per response and the ratio apierrors / DRF.
"""

from __future__ import annotations

import argparse
import os
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

from rest_framework import exceptions, serializers  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.settings import api_settings  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402
from rest_framework.views import APIView  # noqa: E402
from rest_framework.views import exception_handler as drf_exception_handler  # noqa: E402

from apierrors.handler import exception_handler as apierrors_exception_handler  # noqa: E402


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


def time_view(view: Callable[..., Any], number: int, rounds: int) -> float:
    factory = APIRequestFactory()
    request = factory.get("/bench/")
    response = view(request)
    response.render()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            view(factory.get("/bench/")).render()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=3000)
    args = parser.parse_args()
    assert api_settings.EXCEPTION_HANDLER is apierrors_exception_handler
    print(f"{'error':<16}{'DRF us':>10}{'apierrors us':>15}{'ratio':>8}")
    for name, raiser in (
        ("NotFound", raise_not_found),
        ("ValidationError", raise_validation),
        ("Throttled", raise_throttled),
    ):
        drf = time_view(make_view(raiser, drf_exception_handler), args.number, args.rounds)
        ours = time_view(make_view(raiser, apierrors_exception_handler), args.number, args.rounds)
        print(f"{name:<16}{drf:>10.1f}{ours:>15.1f}{ours / drf:>8.2f}")


if __name__ == "__main__":
    main()

"""Redis memory per client and rate: apierrors against limits, django-ratelimit and DRF.

Run from the project root (``pip install -e '.[dev,bench]'`` first)::

    .venv/bin/python bench/memory.py                  # 10,000 clients x 10 hits, 1000/hour
    .venv/bin/python bench/memory.py --clients 2000   # quicker

For each contender, on a private redis-server (started here, no persistence) emptied with
``FLUSHALL`` before it: ``--clients`` clients (distinct addresses) make ``--hits`` allowed
requests each, in turn, through the contender's usual API with its usual key names, at
``--rate``. The figure is the growth of ``used_memory`` (``INFO memory``) divided by the
number of clients and rates: what one more client costs in Redis, keys, values and Redis's
own per-key overhead (expiry entry, allocator rounding) included. Below a few thousand
clients the figure is noisy: Redis's hash tables grow in powers of two and the allocator
works in chunks, so a small fill may land on either side of a step.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.peers import configure, limit_of, requests, start_redis  # noqa: E402

Fill = Callable[[list[Any], int], None]
"""Makes ``hits`` allowed requests for each of the DRF requests given."""


def apierrors(rates: tuple[str, ...], algorithm: str) -> Fill:
    from apierrors.throttling import UserRateLimitThrottle

    class Throttle(UserRateLimitThrottle):
        pass

    Throttle.rates = rates
    Throttle.algorithm = algorithm

    def fill(clients: list[Any], hits: int) -> None:
        view = object()
        for _ in range(hits):
            for request in clients:
                if not Throttle().allow_request(request, view):  # type: ignore[arg-type]
                    raise SystemExit(f"apierrors {algorithm} denied a call")

    return fill


def limits(url: str, strategy: str, rate: str) -> Fill:
    from limits import parse, storage, strategies

    limiter = {
        "fixed window": strategies.FixedWindowRateLimiter,
        "moving window": strategies.MovingWindowRateLimiter,
        "sliding window counter": strategies.SlidingWindowCounterRateLimiter,
    }[strategy](storage.RedisStorage(url))
    item = parse(rate)

    def fill(clients: list[Any], hits: int) -> None:
        idents = [request._request.META["REMOTE_ADDR"] for request in clients]
        for _ in range(hits):
            for ident in idents:
                if not limiter.hit(item, "user", ident):
                    raise SystemExit(f"limits {strategy} denied a call")

    return fill


def django_ratelimit(rate: str) -> Fill:
    from django_ratelimit.core import is_ratelimited

    spelled = f"{limit_of(rate)}/{rate.split('/')[1][0]}"

    def fill(clients: list[Any], hits: int) -> None:
        plain = [request._request for request in clients]
        for _ in range(hits):
            for request in plain:
                if is_ratelimited(
                    request, group="api.upload", key="ip", rate=spelled, increment=True
                ):
                    raise SystemExit("django-ratelimit denied a call")

    return fill


def drf(rate: str) -> Fill:
    from rest_framework.throttling import UserRateThrottle

    class Throttle(UserRateThrottle):
        pass

    unit = rate.split("/")[1][0]
    Throttle.rate = f"{limit_of(rate)}/{unit}"

    def fill(clients: list[Any], hits: int) -> None:
        view = object()
        for _ in range(hits):
            for request in clients:
                if not Throttle().allow_request(request, view):  # type: ignore[arg-type]
                    raise SystemExit("DRF denied a call")

    return fill


def used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--hits", type=int, default=10, help="requests per client")
    parser.add_argument("--rate", default="1000/hour")
    options = parser.parse_args()

    url, process = start_redis()
    try:
        configure(url, prefix=None)  # apierrors' own key prefix, as deployed
        from django_redis import get_redis_connection

        client = get_redis_connection("default")
        rate = options.rate
        contenders: list[tuple[str, int, Fill]] = [
            ("apierrors fixed window", 1, apierrors((rate,), "fixed_window")),
            ("apierrors GCRA", 1, apierrors((rate,), "gcra")),
            ("apierrors GCRA two rates (+ 10000/day)", 2, apierrors((rate, "10000/day"), "gcra")),
            ("limits fixed window", 1, limits(url, "fixed window", rate)),
            ("limits moving window", 1, limits(url, "moving window", rate)),
            ("limits sliding window counter", 1, limits(url, "sliding window counter", rate)),
            ("django-ratelimit", 1, django_ratelimit(rate)),
            ("DRF UserRateThrottle", 1, drf(rate)),
        ]
        made = requests(options.clients + 64)
        clients, warm = made[: options.clients], made[options.clients :]
        print(
            f"Redis {client.info('server')['redis_version']}: {options.clients} clients x "
            f"{options.hits} hits at {rate}, used_memory growth per client and rate; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        )
        print(f"{'contender':40} {'B/client':>9} {'keys':>6}  example key")
        for name, rates, fill in contenders:
            # Warm up on other clients first (connections, scripts, lazy imports), so that
            # only the state of the measured clients makes the difference.
            client.flushall()
            fill(warm, 1)
            client.flushall()
            time.sleep(0.1)
            before = used_memory(client)
            fill(clients, options.hits)
            after = used_memory(client)
            keys = int(client.dbsize())
            example = next(iter(client.scan_iter(count=10)), b"").decode()
            per_client = (after - before) / options.clients / rates
            print(f"{name:40} {per_client:9.0f} {keys:6d}  {example}")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()

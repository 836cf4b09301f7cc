"""Cost of one rate-limit check: apierrors against limits, django-ratelimit and DRF.

Run from the project root (``pip install -e '.[dev,bench]'`` first)::

    .venv/bin/python bench/peers.py --repeat 3 --json bench/peers.json
    .venv/bin/python bench/plot_peers.py bench/peers.json docs/_static/throttle-peers.png

Every contender runs in ONE interleaved run on one private redis-server (started here, on a
free port, without persistence): the cases take turns in short batches, so that a noisy
moment on the shared machine weighs on all of them alike. A repetition is such a run of
``--rounds`` rounds; a case's figure for a repetition is the median of its rounds (mean
microseconds per check within a round). ``--repeat N`` makes N independent repetitions; the
report gives the median of the repetition figures, their spread (min-max) and the ratios to
two floors measured in the same rounds:

- **bare PING**: a pre-connected raw socket sending ``*1\\r\\n$4\\r\\nPING\\r\\n`` and reading
  ``+PONG\\r\\n``: one round trip, nothing else (the physical floor);
- **pool PING**: ``redis.Redis.ping()`` on the django-redis client (redis-py's pool).

Contenders (all allowed calls unless the name says denied):

- **apierrors**: ``UserRateLimitThrottle.allow_request()`` with a DRF ``Request`` (the
  production path: the store reads Redis's clock), fixed window and GCRA, one rate, and
  GCRA with two rates (the rate + 10000/day); the **store check alone** (``Store.check``
  with a prepared plan: no DRF request handling, no headers); a **three-throttle view**
  (``APIView.check_throttles`` with a user throttle, a scoped throttle and a custom one, as
  DRF documents ``throttle_classes``); a **denied** client (a key already refused:
  ``allow_request`` returns False, then ``wait()`` as DRF calls it).
- **limits**: ``hit()`` then ``get_window_stats()`` (what ``X-RateLimit-*`` headers need) for
  the fixed window, moving window and sliding window counter, on limits' Redis storage.
- **django-ratelimit**: ``get_usage(..., increment=True)`` (``is_ratelimited`` plus the
  count and time left the headers need) on the same django-redis cache.
- **DRF**: ``UserRateThrottle.allow_request()`` on the same cache, in steady state near its
  limit (history pre-filled with 99% of the limit; the clock advances so that each call
  drops one timestamp and adds one), and a denied client (history full) at 1000/hour.

Clients rotate over 256 addresses; for the allowed cases every key is renamed before any
client reaches its limit. After the timing, the number of Redis round trips per check is
counted for each case (calls of redis-py's ``send_packed_command``, a pipeline is one, and
of apierrors' raw connection, ``WireClient._roundtrip``). ``--only WORD`` keeps the floors
and the cases whose name contains WORD (e.g. ``--only apierrors``).

Beside the two PINGs, a third yardstick: a **bare EVALSHA** of a script that does nothing
(``return 1``) on a raw socket, what invoking any Lua script costs over a PING: no
scripted check can cost less.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The same private redis-server as the throttle benchmark (re-exported for bench/memory.py).
from bench.throttle import start_redis  # noqa: E402

PREFIX = f"bench-peers-{os.getpid()}"
RATES = ("10/second", "100/minute", "1000/hour", "10000/day")
CLIENTS = 256
GENERATIONS = itertools.count()

Run = Callable[[int], None]
"""Runs ``n`` more checks."""


@dataclass
class Case:
    name: str
    contender: str
    rate: str | None
    run: Run


def configure(redis_url: str, prefix: str | None = PREFIX) -> None:
    """Django settings for the contenders; ``prefix=None`` keeps apierrors' key prefix."""
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
                # Generous: a loaded machine must not turn a slow reply into an outage.
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
            }
        },
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_THROTTLE_RATES": {"user": "1000/hour", "uploads": "100/minute"},
        },
        # FAIL_OPEN off: a store failure stops the run instead of passing checks unmeasured.
        APIERRORS={"FAIL_OPEN": False}
        | ({} if prefix is None else {"THROTTLE_KEY_PREFIX": prefix}),
        RATELIMIT_USE_CACHE="default",
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
        request = Request(factory.get("/upload/", REMOTE_ADDR=address))
        _ = request.user
        made.append(request)
    return made


def limit_of(rate: str) -> int:
    from apierrors.ratelimit.rates import parse_rate

    return parse_rate(rate).limit


def rotating(
    smallest_limit: int, rename: Callable[[int], None], check: Callable[[int], None]
) -> Run:
    """Clients take turns; before any reaches ``smallest_limit``, ``rename`` moves every key."""
    per_generation = CLIENTS * (smallest_limit - 1)
    state = {"calls": per_generation}

    def run(n: int) -> None:
        calls = state["calls"]
        for _ in range(n):
            if calls == per_generation:
                rename(next(GENERATIONS))
                calls = 0
            check(calls % CLIENTS)
            calls += 1
        state["calls"] = calls

    return run


# --- floors ------------------------------------------------------------------------------


def raw_socket(redis_url: str) -> socket.socket:
    """A pre-connected socket to the Redis of ``redis_url``, Nagle off."""
    from urllib.parse import urlparse

    parsed = urlparse(redis_url)
    sock = socket.create_connection((parsed.hostname, parsed.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def raw_round_trips(sock: socket.socket, command: bytes, reply: bytes, name: str) -> Run:
    """Sends ``command`` and reads ``reply``, ``n`` times: nothing else."""

    def run(n: int) -> None:
        for _ in range(n):
            sock.sendall(command)
            got = sock.recv(64)
            while len(got) < len(reply):
                got += sock.recv(64)
            if got != reply:
                raise SystemExit(f"{name} got {got!r}")

    return run


def bare_ping(redis_url: str) -> Run:
    ping = b"*1\r\n$4\r\nPING\r\n"
    return raw_round_trips(raw_socket(redis_url), ping, b"+PONG\r\n", "bare PING")


def bare_evalsha(redis_url: str) -> Run:
    """A script call that does nothing (``return 1``) on a raw socket: what running any Lua
    script costs over a PING, the floor of every scripted check."""
    import hashlib

    sock = raw_socket(redis_url)
    script = b"return 1"
    sha = hashlib.sha1(script, usedforsecurity=False).hexdigest().encode()
    sock.sendall(b"*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n$%d\r\n%s\r\n" % (len(script), script))
    loaded = sock.recv(128)
    if sha not in loaded:
        raise SystemExit(f"SCRIPT LOAD answered {loaded!r}")
    command = b"*4\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$1\r\n1\r\n$5\r\n{key}\r\n" % sha
    return raw_round_trips(sock, command, b":1\r\n", "bare EVALSHA")


def pool_ping() -> Run:
    from django_redis import get_redis_connection

    client = get_redis_connection("default")

    def run(n: int) -> None:
        for _ in range(n):
            client.ping()

    return run


# --- apierrors ---------------------------------------------------------------------------


def apierrors_throttle(rates: tuple[str, ...], algorithm: str) -> Run:
    from apierrors.throttling import UserRateLimitThrottle

    class Throttle(UserRateLimitThrottle):
        pass

    Throttle.rates = rates
    Throttle.algorithm = algorithm
    clients = requests(CLIENTS)
    view = object()

    def rename(generation: int) -> None:
        Throttle.cache_format = f"g{generation}_%(scope)s_%(ident)s"

    def check(i: int) -> None:
        if not Throttle().allow_request(clients[i], view):  # type: ignore[arg-type]
            raise SystemExit(f"apierrors {algorithm} {rates} denied a call")

    return rotating(min(limit_of(rate) for rate in rates), rename, check)


def apierrors_store(rate: str, algorithm: str) -> Run:
    from apierrors.ratelimit import get_store, plan_for

    store = get_store("default")
    plan = plan_for((rate,), algorithm, None, PREFIX)
    tags = {"format": ""}

    def rename(generation: int) -> None:
        tags["format"] = f"store{generation}_%d"

    def check(i: int) -> None:
        if not store.check(tags["format"] % i, plan)[0]:
            raise SystemExit(f"apierrors store {algorithm} {rate} denied a call")

    return rotating(limit_of(rate), rename, check)


def apierrors_three_throttles() -> Run:
    from rest_framework.views import APIView

    from apierrors.throttling import (
        RateLimitThrottle,
        ScopedRateLimitThrottle,
        UserRateLimitThrottle,
    )

    class User(UserRateLimitThrottle):
        pass  # DEFAULT_THROTTLE_RATES["user"]: 1000/hour

    class Scoped(ScopedRateLimitThrottle):
        pass  # the view's throttle_scope: DEFAULT_THROTTLE_RATES["uploads"], 100/minute

    class PerPath(RateLimitThrottle):
        """A custom one: a burst limit per client and path."""

        scope = "path"
        rate = "10/second"
        algorithm = "gcra"

        def get_cache_key(self, request: Any, view: Any) -> str | None:
            return self.cache_format % {
                "scope": self.scope,
                "ident": f"{request.path}:{self.get_ident(request)}",
            }

    class UploadView(APIView):
        throttle_classes = [User, Scoped, PerPath]
        throttle_scope = "uploads"

    clients = requests(CLIENTS)
    view = UploadView()

    def rename(generation: int) -> None:
        for klass in (User, Scoped, PerPath):
            klass.cache_format = f"g{generation}_%(scope)s_%(ident)s"

    def check(i: int) -> None:
        request = clients[i]
        view.request = request
        view.check_throttles(request)  # raises Throttled if one refuses

    return rotating(10, rename, check)


def apierrors_denied(algorithm: str) -> Run:
    from apierrors.throttling import UserRateLimitThrottle

    class Throttle(UserRateLimitThrottle):
        rate = "10/day"
        cache_format = "denied_%(scope)s_%(ident)s"

    Throttle.algorithm = algorithm
    request = requests(1)[0]
    view = object()

    def exhaust() -> None:
        while Throttle().allow_request(request, view):  # type: ignore[arg-type]
            pass

    exhaust()

    def run(n: int) -> None:
        for _ in range(n):
            throttle = Throttle()
            if throttle.allow_request(request, view):  # type: ignore[arg-type]
                exhaust()  # a new day (fixed window) or one emission interval (GCRA)
            elif throttle.wait() is None:
                raise SystemExit("a denied apierrors check gave no wait")

    return run


# --- limits ------------------------------------------------------------------------------


def limits_case(redis_url: str, strategy: str, rate: str) -> Run:
    from limits import parse, storage, strategies

    store = LIMITS_STORAGE.setdefault(redis_url, storage.RedisStorage(redis_url))
    limiter = {
        "fixed window": strategies.FixedWindowRateLimiter,
        "moving window": strategies.MovingWindowRateLimiter,
        "sliding window counter": strategies.SlidingWindowCounterRateLimiter,
    }[strategy](store)
    item = parse(rate)
    idents = [f"10.0.{i >> 8 & 255}.{i & 255}" for i in range(CLIENTS)]
    namespace = {"name": ""}

    def rename(generation: int) -> None:
        namespace["name"] = f"{PREFIX}-g{generation}"

    def check(i: int) -> None:
        if not limiter.hit(item, namespace["name"], idents[i]):
            raise SystemExit(f"limits {strategy} {rate} denied a call")
        stats = limiter.get_window_stats(item, namespace["name"], idents[i])
        _ = (stats.remaining, int(stats.reset_time))

    return rotating(limit_of(rate), rename, check)


LIMITS_STORAGE: dict[str, Any] = {}


# --- django-ratelimit --------------------------------------------------------------------


def django_ratelimit_case(rate: str) -> Run:
    from django_ratelimit.core import get_usage

    clients = [request._request for request in requests(CLIENTS)]
    # django-ratelimit spells rates as count/unit, e.g. "1000/h".
    spelled = f"{limit_of(rate)}/{rate.split('/')[1][0]}"
    group = {"name": ""}

    def rename(generation: int) -> None:
        group["name"] = f"{PREFIX}-g{generation}"

    def check(i: int) -> None:
        usage = get_usage(clients[i], group=group["name"], key="ip", rate=spelled, increment=True)
        if usage is None or usage["should_limit"]:
            raise SystemExit(f"django-ratelimit {rate} denied a call")
        _ = (usage["limit"] - usage["count"], usage["time_left"])

    return rotating(limit_of(rate), rename, check)


# --- DRF ---------------------------------------------------------------------------------


def drf_case(rate: str, denied: bool = False) -> Run:
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    from apierrors.ratelimit.rates import parse_rate

    parsed = parse_rate(rate)
    # Steady state near the limit (1% of margin, so that float rounding at the window's
    # edge never makes it `limit`); denied: the history is full and the clock stands still.
    size = parsed.limit if denied else parsed.limit - 1 - max(1, parsed.limit // 100)
    step = parsed.period / size
    clock = {"now": 2_000_000_000.0}

    class Throttle(UserRateThrottle):
        scope = f"{PREFIX}-drf-{parsed.limit}-{parsed.period}-{int(denied)}"

    unit = {1: "s", 60: "m", 3600: "h", 86400: "d"}[parsed.period]
    Throttle.rate = f"{parsed.limit}/{unit}"
    Throttle.timer = staticmethod(lambda: clock["now"])  # type: ignore[assignment]
    request = requests(1)[0]
    view = object()
    key = Throttle().get_cache_key(request, view)  # type: ignore[arg-type]
    now = clock["now"]
    history = [now - step * (k + 1) for k in range(size)]
    if denied:
        history = [now - 1.0 - k * 1e-3 for k in range(size)]
    cache.set(key, history, parsed.period)

    def run(n: int) -> None:
        for _ in range(n):
            throttle = Throttle()
            if denied:
                if throttle.allow_request(request, view) or throttle.wait() is None:  # type: ignore[arg-type]
                    raise SystemExit(f"DRF {rate} allowed a denied client")
                continue
            clock["now"] += step
            if not throttle.allow_request(request, view):  # type: ignore[arg-type]
                raise SystemExit(f"DRF {rate} denied a call; the figures would be wrong")

    return run


# --- the run -----------------------------------------------------------------------------


def build_cases(redis_url: str) -> list[Case]:
    cases = [
        Case("bare PING", "bare PING", None, bare_ping(redis_url)),
        Case("pool PING", "pool PING", None, pool_ping()),
        Case("bare EVALSHA (return 1)", "bare EVALSHA, no-op", None, bare_evalsha(redis_url)),
    ]
    for rate in RATES:
        cases += [
            Case(
                f"apierrors fixed window {rate}",
                "apierrors fixed window",
                rate,
                apierrors_throttle((rate,), "fixed_window"),
            ),
            Case(
                f"apierrors GCRA {rate}",
                "apierrors GCRA",
                rate,
                apierrors_throttle((rate,), "gcra"),
            ),
        ]
        if rate != "10000/day":
            cases.append(
                Case(
                    f"apierrors GCRA {rate} + 10000/day",
                    "apierrors GCRA two rates (+ 10000/day)",
                    rate,
                    apierrors_throttle((rate, "10000/day"), "gcra"),
                )
            )
        cases += [
            Case(
                f"apierrors store check fixed window {rate}",
                "apierrors store check alone (fixed window)",
                rate,
                apierrors_store(rate, "fixed_window"),
            ),
            Case(
                f"apierrors store check GCRA {rate}",
                "apierrors store check alone (GCRA)",
                rate,
                apierrors_store(rate, "gcra"),
            ),
        ]
        for strategy in ("fixed window", "moving window", "sliding window counter"):
            cases.append(
                Case(
                    f"limits {strategy} {rate}",
                    f"limits {strategy}",
                    rate,
                    limits_case(redis_url, strategy, rate),
                )
            )
        cases += [
            Case(f"django-ratelimit {rate}", "django-ratelimit", rate, django_ratelimit_case(rate)),
            Case(f"DRF near limit {rate}", "DRF UserRateThrottle near limit", rate, drf_case(rate)),
        ]
    cases += [
        Case(
            "apierrors three-throttle view",
            "apierrors three-throttle view (1000/hour user, 100/minute scoped, 10/second custom)",
            None,
            apierrors_three_throttles(),
        ),
        Case(
            "apierrors denied fixed window",
            "apierrors denied (fixed window 10/day)",
            None,
            apierrors_denied("fixed_window"),
        ),
        Case(
            "apierrors denied GCRA",
            "apierrors denied (GCRA 10/day)",
            None,
            apierrors_denied("gcra"),
        ),
        Case(
            "DRF denied 1000/hour",
            "DRF denied (1000/hour, history full)",
            None,
            drf_case("1000/hour", denied=True),
        ),
    ]
    return cases


def repetition(cases: list[Case], iterations: int, rounds: int, batch: int) -> dict[str, float]:
    """One interleaved run: each case's median over the rounds, in µs per check."""
    for case in cases:  # warm up: connections, script cache, lru caches
        case.run(batch)
    samples: dict[str, list[float]] = {case.name: [] for case in cases}
    turns = max(1, iterations // batch)
    for _ in range(rounds):
        spent = dict.fromkeys(samples, 0.0)
        for _ in range(turns):
            for case in cases:
                started = time.perf_counter()
                case.run(batch)
                spent[case.name] += time.perf_counter() - started
        for name, seconds in spent.items():
            samples[name].append(seconds / (turns * batch) * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def count_round_trips(cases: list[Case], calls: int = 3 * CLIENTS) -> dict[str, float]:
    """Redis round trips per check: calls of redis-py's send_packed_command (a pipeline is one).

    The mean over ``calls`` consecutive checks of one case, so a case whose first hit of a
    window costs fewer round trips than the others (django-ratelimit's ``add``) shows a
    fraction.
    """
    from redis.connection import AbstractConnection

    from apierrors.ratelimit.wire import WireClient

    counter = {"n": 0}
    original = AbstractConnection.send_packed_command
    original_wire = WireClient._roundtrip

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        counter["n"] += 1
        original(self, command, check_health)

    def counted_wire(self: Any, conn: Any, command: bytes) -> Any:
        counter["n"] += 1
        return original_wire(self, conn, command)

    AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
    WireClient._roundtrip = counted_wire  # type: ignore[method-assign]
    try:
        trips = {}
        for case in cases:
            if case.name.startswith("bare "):  # raw sockets of their own: one each
                trips[case.name] = 1.0
                continue
            counter["n"] = 0
            case.run(calls)
            trips[case.name] = counter["n"] / calls
    finally:
        AbstractConnection.send_packed_command = original  # type: ignore[method-assign]
        WireClient._roundtrip = original_wire  # type: ignore[method-assign]
    return trips


def summarise(
    cases: list[Case], runs: list[dict[str, float]], trips: dict[str, float]
) -> dict[str, Any]:
    summary = {}
    for case in cases:
        values = [run[case.name] for run in runs]
        x_pool = [run[case.name] / run["pool PING"] for run in runs]
        x_bare = [run[case.name] / run["bare PING"] for run in runs]
        summary[case.name] = {
            "contender": case.contender,
            "rate": case.rate,
            "median_us": statistics.median(values),
            "min_us": min(values),
            "max_us": max(values),
            "x_pool_ping": statistics.median(x_pool),
            "x_pool_ping_range": [min(x_pool), max(x_pool)],
            "x_bare_ping": statistics.median(x_bare),
            "x_bare_ping_range": [min(x_bare), max(x_bare)],
            "round_trips": trips.get(case.name),
        }
    return summary


def versions(client: Any) -> dict[str, str]:
    from importlib.metadata import version

    found = {
        "redis-server": client.info("server")["redis_version"],
        "python": platform.python_version(),
        "cpus": str(os.cpu_count()),
        "machine": platform.machine(),
    }
    for package in (
        "Django",
        "djangorestframework",
        "django-redis",
        "redis",
        "hiredis",
        "limits",
        "django-ratelimit",
    ):
        try:
            found[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing optional package is only reported
            found[package] = "-"
    return found


def report(summary: dict[str, Any], meta: dict[str, Any]) -> None:
    print(
        ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + f"\n{meta['repeat']} repetitions x {meta['rounds']} rounds x {meta['iterations']} calls "
        f"per case, batches of {meta['batch']}; {meta['date']}"
    )
    header = f"{'case':50} {'µs med':>7} {'spread':>13} {'x pool':>6} {'x bare':>6} {'RTs':>4}"
    print(header)
    print("-" * len(header))
    for name, row in summary.items():
        spread = f"{row['min_us']:.1f}-{row['max_us']:.1f}"
        trips = "" if row["round_trips"] is None else f"{row['round_trips']:.2f}"
        print(
            f"{name:50} {row['median_us']:7.1f} {spread:>13} {row['x_pool_ping']:6.2f} "
            f"{row['x_bare_ping']:6.2f} {trips:>4}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=600, help="calls per case per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per repetition (median)")
    parser.add_argument("--batch", type=int, default=25, help="calls per turn of a case")
    parser.add_argument("--repeat", type=int, default=3, help="independent interleaved runs")
    parser.add_argument("--json", help="also write everything to this file")
    parser.add_argument("--only", help="keep the floors and the cases whose name has this")
    options = parser.parse_args()

    url, process = start_redis()
    try:
        configure(url)
        from django_redis import get_redis_connection

        started = time.monotonic()
        cases = build_cases(url)
        if options.only:
            floors = ("bare ", "pool ")
            cases = [c for c in cases if c.name.startswith(floors) or options.only in c.name]
        runs = [
            repetition(cases, options.iterations, options.rounds, options.batch)
            for _ in range(options.repeat)
        ]
        trips = count_round_trips(cases)
        summary = summarise(cases, runs, trips)
        meta = {
            "command": "bench/peers.py " + " ".join(sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seconds": round(time.monotonic() - started, 1),
            "iterations": options.iterations,
            "rounds": options.rounds,
            "batch": options.batch,
            "repeat": options.repeat,
            "versions": versions(get_redis_connection("default")),
        }
        report(summary, meta)
        print(f"({meta['seconds']} s)")
        if options.json:
            Path(options.json).write_text(
                json.dumps({"meta": meta, "repetitions": runs, "summary": summary}, indent=2) + "\n"
            )
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()

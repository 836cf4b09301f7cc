"""End to end: the sandbox under gunicorn with apierrors vs the same views with DRF's defaults.

Run: .venv/bin/python bench/e2e.py [--quick] [--duration 30] [--slice 2] [--workers 2]

One run starts a private redis-server, migrates and seeds one SQLite database, creates
``--users`` users with a token each, and serves the same views twice under gunicorn (the
same number of sync workers each, the same database file and Redis):

- apierrors: ``sandbox.settings`` (APIErrorsMiddleware, apierrors' handler, parser and
  throttles);
- DRF: ``bench.drf_settings`` (DRF's exception handler and parser, no middleware, DRF's
  ``UserRateThrottle``/``AnonRateThrottle`` on the same Redis via django-redis).

Both throttle at the sandbox's rate (``user`` 1000/hour); each request carries one of the
users' tokens in turn, so no user nears its limit and DRF's throttle keeps a realistic
history (tens of timestamps per user, not thousands). A load generator in a second
process (``wrk`` when it is installed, else Python threads with ``http.client``) drives
the sides in turns of ``--slice`` seconds, alternating which goes first, until each has had
``--duration`` seconds of each case, so that a noisy moment on the machine weighs on both:

- success: ``GET /api/v1/segments/`` (JWT, scope check, throttle, a paginated query);
- error: ``GET /api/v1/campaigns/999999/`` (the same, then 404 RESOURCE_NOT_FOUND).

It prints requests per second (the mean over the turns) and p50/p99 latency (the median
of the turns' figures) per side, and the ratios apierrors / DRF. ``--quick`` (one 2 s
turn per case and side) only shows that the bench runs.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.sandbox_server import (  # noqa: E402
    SandboxServer,
    manage,
    prepare_database,
    sandbox_env,
    start_sandbox,
)
from tests.fixtures.services import RedisServer, free_port  # noqa: E402

CASES = {
    "success": ("/api/v1/segments/", 200),
    "error": ("/api/v1/campaigns/999999/", 404),
}
RATE = "1000/hour"

MAKE_USERS = """
from django.contrib.auth import get_user_model
from sandbox.accounts import scopes
from sandbox.accounts.tokens import access_token_for
User = get_user_model()
User.objects.bulk_create([User(username=f"bench{{i}}") for i in range({count})])
for user in User.objects.filter(username__startswith="bench").order_by("pk"):
    print(access_token_for(user, scopes=list(scopes.ALL)))
"""


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    unexpected: int


# Load generators ----------------------------------------------------------------------------


def run_wrk(port: int, path: str, tokens: list[str], seconds: float, connections: int) -> Figures:
    workdir = Path(tempfile.mkdtemp(prefix="apierrors-wrk-"))
    script = workdir / "tokens.lua"
    quoted = ",\n".join(f'"{token}"' for token in tokens)
    script.write_text(
        f"local tokens = {{{quoted}}}\n"
        "local i = math.random(#tokens)\n"
        "unexpected = 0\n"
        "request = function()\n"
        "  i = i % #tokens + 1\n"
        f'  return wrk.format("GET", "{path}", {{Authorization = "Bearer " .. tokens[i]}})\n'
        "end\n"
    )
    import subprocess

    done = subprocess.run(
        [
            "wrk",
            "--latency",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    shutil.rmtree(workdir, ignore_errors=True)
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    unexpected = sum(int(n) for n in errors.groups()) if errors else 0
    return Figures(rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"), requests, unexpected)


def _wrk_ms(out: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    assert match is not None, out
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _python_worker(
    port: int, path: str, tokens: list[str], seconds: float, connections: int, out: Any
) -> None:
    """In a separate process: ``connections`` threads, each sending requests one by one."""
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(offset: int) -> None:
        mine_l: list[float] = []
        mine_s: list[int] = []
        index = offset
        while time.perf_counter() < deadline:
            index = (index + connections) % len(tokens)
            started = time.perf_counter()
            # gunicorn's sync workers close every connection: one connection per request.
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request(
                    "GET", path, headers={"Authorization": f"Bearer {tokens[index]}"}
                )
                response = connection.getresponse()
                response.read()
                mine_s.append(response.status)
            except OSError:
                mine_s.append(0)
            finally:
                connection.close()
            mine_l.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine_l)
            statuses.extend(mine_s)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    out.put((latencies, statuses, elapsed))


def run_python(
    port: int, path: str, tokens: list[str], seconds: float, connections: int, expected: int
) -> Figures:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(
        target=_python_worker, args=(port, path, tokens, seconds, connections, queue)
    )
    process.start()
    latencies, statuses, elapsed = queue.get(timeout=seconds + 120)
    process.join(timeout=30)
    latencies.sort()
    return Figures(
        rps=len(latencies) / elapsed,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        requests=len(latencies),
        unexpected=sum(status != expected for status in statuses),
    )


# The run ------------------------------------------------------------------------------------


def check_answer(server: SandboxServer, path: str, token: str, expected: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    if response.status != expected:
        raise SystemExit(f"{server.url(path)} answered {response.status}, not {expected}: {body}")
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s per case, one round")
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds of load per case and side"
    )
    parser.add_argument("--slice", type=float, default=2.0, help="seconds per turn")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per side")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.slice, args.users = 2.0, 2.0, 50
    loader = args.loader
    if loader == "auto":
        loader = "wrk" if shutil.which("wrk") else "python"
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not on PATH")

    workdir = Path(tempfile.mkdtemp(prefix="apierrors-e2e-"))
    redis = RedisServer(port=free_port(), workdir=workdir)
    redis.start()
    servers: dict[str, SandboxServer] = {}
    try:
        database = prepare_database(workdir)
        script = MAKE_USERS.format(count=args.users)
        printed = manage(sandbox_env(database, None), "shell", "-c", script).split()
        # Django's shell may print a line of its own (what it imported) before the tokens.
        tokens = [word for word in printed if word.startswith("ey") and word.count(".") == 2]
        env = {"SANDBOX_THROTTLE_RATES": f"user={RATE},anon={RATE}"}
        common: dict[str, Any] = {"workers": args.workers, "share_database": True}
        servers["apierrors"] = start_sandbox(
            workdir, database, redis.url, name="apierrors", **common, **env
        )
        servers["drf"] = start_sandbox(
            workdir,
            database,
            redis.url,
            name="drf",
            **common,
            DJANGO_SETTINGS_MODULE="bench.drf_settings",
            **env,
        )
        for side, server in servers.items():
            for path, expected in CASES.values():
                body = check_answer(server, path, tokens[0], expected)
                if expected == 404:
                    envelope = '"error"' in body
                    assert envelope == (side == "apierrors"), body

        slices = max(1, round(args.duration / args.slice))
        print(
            f"bench/e2e.py: {args.workers} gunicorn sync workers per side, loader {loader} "
            f"({args.connections} connections), {args.users} users, user rate {RATE}, "
            f"{slices} x {args.slice:g} s per case and side, the sides taking turns"
        )
        results: dict[tuple[str, str], list[Figures]] = {}
        for case, (path, expected) in CASES.items():
            for index in range(slices):
                # Turns of a few seconds, in alternating order, so that whatever else the
                # machine does weighs on both sides alike.
                order = ["apierrors", "drf"] if index % 2 == 0 else ["drf", "apierrors"]
                for side in order:
                    port = servers[side].port
                    if loader == "wrk":
                        figures = run_wrk(port, path, tokens, args.slice, args.connections)
                    else:
                        figures = run_python(
                            port, path, tokens, args.slice, args.connections, expected
                        )
                    results.setdefault((case, side), []).append(figures)
            for side in ("apierrors", "drf"):
                runs = results[(case, side)]
                print(
                    f"  {case:<8} {side:<10} per turn: "
                    + " ".join(f"{figures.rps:.0f}" for figures in runs)
                    + f" req/s ({sum(f.requests for f in runs)} requests, "
                    f"{sum(f.unexpected for f in runs)} unexpected)"
                )
        report(results)
    finally:
        for server in servers.values():
            server.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def report(results: dict[tuple[str, str], list[Figures]]) -> None:
    print()
    print(f"{'case':<9}{'side':<11}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for case in CASES:
        medians = {}
        for side in ("apierrors", "drf"):
            runs = results[(case, side)]
            medians[side] = (
                statistics.mean(f.rps for f in runs),
                statistics.median(f.p50_ms for f in runs),
                statistics.median(f.p99_ms for f in runs),
            )
            rps, p50, p99 = medians[side]
            print(f"{case:<9}{side:<11}{rps:9.1f}{p50:9.2f}{p99:9.2f}")
        ours, theirs = medians["apierrors"], medians["drf"]
        print(
            f"{case:<9}{'ratio':<11}{ours[0] / theirs[0]:9.3f}{ours[1] / theirs[1]:9.3f}"
            f"{ours[2] / theirs[2]:9.3f}   (apierrors / DRF)"
        )
    print()
    print("Targets: success throughput ratio >= 0.85; error path at most 15% slower")
    print("(throughput ratio >= 0.87, i.e. 1 / 1.15).")


if __name__ == "__main__":
    main()

"""Event-loop lag while one rate-limit check waits on a Redis stalled for 200 ms.

Run from the project root::

    .venv/bin/python bench/async_lag.py            # 3 runs, a private redis-server
    .venv/bin/python bench/async_lag.py --runs 5 --stall 0.5

One run, on a private redis-server started with ``--enable-debug-command local``: a ticker
task wakes every 2 ms and records how late the event loop wakes it; ``DEBUG SLEEP`` on
another connection stalls the whole server; meanwhile one check runs, either

- native: ``await store.acheck(...)``, on redis.asyncio (what ``aallow_request`` does), or
- sync: ``store.check(...)`` called from the coroutine, the blocking call async code
  makes without an async API.

Printed per run: the largest lag of the loop and how long the check itself took (ms), and
for comparison the lag of the same loop running no check through the stall: the noise
floor of a loaded machine, which delays a process now and then whatever it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stall", type=float, default=0.2, help="seconds (default 0.2)")
    options = parser.parse_args()

    import django

    django.setup()
    from apierrors.ratelimit import plan_for
    from apierrors.ratelimit.redis_uri import RedisURIStore
    from tests.asyncio.lag import measure
    from tests.fixtures.services import start_redis

    server = start_redis(["--enable-debug-command", "local"])
    try:
        # The store's socket timeout must outlast the stall (THROTTLE_STORE_TIMEOUT).
        from django.conf import settings

        settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE_TIMEOUT": options.stall + 1}
        store = RedisURIStore(server.url)
        plan = plan_for(("100/minute",), "fixed_window", None, "bench-lag")
        print(f"stall {options.stall * 1000:.0f} ms; figures in ms: largest loop lag / check")
        for run in range(1, options.runs + 1):
            figures = []
            cases = (("native acheck", True), ("sync check", False), ("no check", None))
            for name, native in cases:
                lag, took = asyncio.run(measure(store, plan, server.url, options.stall, native))
                figures.append(f"{name}: {lag * 1000:6.1f} / {took * 1000:6.1f}")
            print(f"run {run}:  " + "   ".join(figures))
    finally:
        server.stop()


if __name__ == "__main__":
    main()

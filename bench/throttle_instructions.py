"""The Python of a throttle check, counted in instructions (valgrind's callgrind).

The store's reply is made in Python (no socket, no Redis), so what is counted is only the
Python around the store call: the throttle, the batch, the plan, the key, the headers.
Instruction counts do not move with the machine's load, so two versions of the code can be
compared from separate runs. Run it twice under callgrind with two numbers of checks; the
difference of the totals over the difference of the counts is the cost of one check::

    for n in 1000 3000; do
      valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \\
        .venv/bin/python bench/throttle_instructions.py single $n 2>&1 | grep Collected
    done

``single``: ``UserRateLimitThrottle.allow_request()`` with one rate; ``three``: the
three-throttle view of ``bench/peers.py`` (``APIView.check_throttles``); ``three-apart``:
the same view with the batch turned off, each throttle checking by itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.peers import apierrors_three_throttles, configure, requests  # noqa: E402


def main() -> None:
    mode, count = sys.argv[1], int(sys.argv[2])
    # No connection is made: the store's reply is made below.
    configure("redis://127.0.0.1:1/0")
    from apierrors.ratelimit import batch, get_store
    from apierrors.throttling import UserRateLimitThrottle

    store: Any = get_store("default")

    def run_keys(keys: list[str], plan: Any, now: int | None) -> list[int]:
        return [1, 1_800_000_000_000_000] + [5, 1_800_000_060_000_000, 0] * len(plan.policies)

    store.run_keys = run_keys  # run() calls it too
    if mode == "three-apart":
        batch.take = lambda *args: None  # type: ignore[assignment]

    class Throttle(UserRateLimitThrottle):
        rate = "1000000/hour"

    clients = requests(256)
    view = object()

    def single(n: int) -> None:
        for i in range(n):
            Throttle().allow_request(clients[i & 255], view)  # type: ignore[arg-type]

    run = single if mode == "single" else apierrors_three_throttles()
    run(500)  # warm up
    run(count)


if __name__ == "__main__":
    main()

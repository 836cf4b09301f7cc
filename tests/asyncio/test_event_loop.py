"""Nothing blocks the event loop: a check waiting on a stalled Redis lets other tasks run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from apierrors.ratelimit import plan_for
from apierrors.ratelimit.redis_uri import RedisURIStore
from tests.asyncio.lag import measure
from tests.fixtures.services import RedisServer, start_redis

# Slow: it starts a server, and its timing wants a machine not busy with other tests.
pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db]

STALL = 0.2


@pytest.fixture(scope="module")
def stallable_redis() -> Iterator[RedisServer]:
    """A private redis-server that accepts ``DEBUG SLEEP`` (a stall of the whole server)."""
    server = start_redis(["--enable-debug-command", "local"])
    yield server
    server.stop()


# A loaded machine delays a process now and then, whatever it runs: the best of a few runs
# is the figure of the code, not of the neighbours.
RUNS = 3


def best_of_runs(url: str, native: bool) -> tuple[float, float]:
    store = RedisURIStore(url)
    plan = plan_for(("100/minute",), "fixed_window", None, "lag")
    runs = [asyncio.run(measure(store, plan, url, STALL, native)) for _ in range(RUNS)]
    return min(lag for lag, _ in runs), min(took for _, took in runs)


def test_a_stalled_redis_does_not_block_the_event_loop(stallable_redis):
    lag, took = best_of_runs(stallable_redis.url, native=True)
    assert took > STALL / 2  # the check did wait on the stall...
    assert lag < 0.05  # ...while the loop kept running other tasks


def test_the_sync_check_from_async_code_does_block_it(stallable_redis):
    # The contrast that shows the measurement can fail: the blocking call stalls the loop.
    lag, took = best_of_runs(stallable_redis.url, native=False)
    assert took > STALL / 2
    assert lag > STALL / 2

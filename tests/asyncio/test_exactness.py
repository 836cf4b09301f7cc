"""Exact on the async path: 4 processes, each running 50 concurrent tasks of 2 checks, on
one key at 100 per minute admit exactly 100 of the 400, at an injected instant, on a
django-redis cache and on a ``redis://`` URI. By the store's clock the rate is 100 per
day: time passes during the run, and GCRA rightly admits one more per 0.6 s at 100 per
minute (a fixed window would double at a minute's end)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from apierrors.ratelimit import get_store, plan_for
from apierrors.ratelimit.rates import MICROS
from tests.fixtures.processes import race
from tests.throttle_app.helpers import redis_cache, use_cache

pytestmark = [pytest.mark.slow, pytest.mark.redis]

PROCESSES = 4
TASKS = 50
ATTEMPTS = 2
LIMITS = {"injected": "100/minute", "server": "100/day"}
T0 = 1_800_000_000 * MICROS
_prefixes = itertools.count()


def _attempts(name, plan, now, barrier, results) -> None:
    # In the forked child: its own store, event loop and connections.
    store = get_store(name)

    async def task() -> int:
        return sum([(await store.acheck("shared", plan, now))[0] for _ in range(ATTEMPTS)])

    async def tasks() -> int:
        return sum(await asyncio.gather(*(task() for _ in range(TASKS))))

    barrier.wait(timeout=60)
    try:
        results.put(asyncio.run(tasks()))
    except Exception as exc:  # reported to the test, which would otherwise wait for it
        results.put(repr(exc))


def admitted(name: str, algorithm: str, now: int | None) -> int:
    limit = LIMITS["server" if now is None else "injected"]
    plan = plan_for((limit,), algorithm, None, f"aexact{next(_prefixes)}")
    counts = race(_attempts, (name, plan, now), PROCESSES)
    assert all(isinstance(count, int) for count in counts), counts
    return sum(counts)


@pytest.mark.parametrize("source", ["django-redis", "uri"])
@pytest.mark.parametrize("algorithm", ["fixed_window", "gcra"])
@pytest.mark.parametrize("now", [None, T0], ids=["server-clock", "injected-clock"])
def test_concurrent_tasks_in_several_processes_admit_exactly_the_limit(
    settings, redis_url, source, algorithm, now
):
    # 200 connections opened at once on a loaded 2-core machine: exactness is the point here,
    # not the store's timeout.
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE_TIMEOUT": 5}
    name = use_cache(settings, redis_cache(redis_url)) if source == "django-redis" else redis_url
    assert admitted(name, algorithm, now) == 100

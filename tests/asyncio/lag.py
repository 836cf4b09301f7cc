"""Event-loop lag while a rate-limit check waits on a stalled Redis (tests and bench).

``DEBUG SLEEP`` on another connection blocks the whole server, which is exactly a
stall; a ticker task meanwhile measures how late the loop wakes it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from apierrors.ratelimit.base import Plan, Store

TICK = 0.002


async def measure(
    store: Store, plan: Plan, url: str, stall: float, native: bool | None
) -> tuple[float, float]:
    """``(largest loop lag, the check's own duration)`` in seconds, one check under a stall.

    ``native``: ``await store.acheck``; ``False``: the sync ``store.check``; ``None``: no
    check, the loop just waits out the stall (the machine's own noise floor).
    """
    import redis.asyncio

    await store.acheck("warm", plan)  # connections are open before the stall
    store.check("warm", plan)
    stopping = asyncio.Event()
    lag = 0.0

    async def ticker() -> None:
        nonlocal lag
        while not stopping.is_set():
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            lag = max(lag, time.perf_counter() - before - TICK)

    staller: Any = redis.asyncio.Redis.from_url(url)
    try:
        await staller.ping()
        ticking = asyncio.create_task(ticker())
        stalling = asyncio.create_task(staller.execute_command("DEBUG", "SLEEP", stall))
        await asyncio.sleep(0.02)  # the server is asleep now
        lag = 0.0
        started = time.perf_counter()
        if native:
            await store.acheck("client", plan)
        elif native is None:
            await stalling
        else:
            store.check("client", plan)  # the sync check, called from async code
        took = time.perf_counter() - started
        await stalling
        await asyncio.sleep(0.01)
        stopping.set()
        await ticking
    finally:
        await staller.aclose()
    return lag, took

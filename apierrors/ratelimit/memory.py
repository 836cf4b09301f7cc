"""The in-process store: rate-limit state in a Django cache of this process.

Meant for ``LocMemCache`` (the sandbox's embedded default, and tests): it runs the Python
form of each algorithm under a process-wide lock, so threads of one process never race,
and keeps the state in the cache itself, so ``cache.clear()`` resets throttles as it does
DRF's. The limits hold per process only: several worker processes each count their own
quota (the system check ``apierrors.W101`` says so outside ``DEBUG``).

On async views a ``LocMemCache`` is checked inline, on the event loop (a few dictionary
operations, no I/O); any other cache this store serves (a database or file cache, which
does I/O) is checked as Django runs sync code from async code, thread-sensitive: a
``DatabaseCache`` goes through the ORM, whose connections belong to the thread (or
request) that uses them, and which Django manages only there.
"""

from __future__ import annotations

import math
import threading
import time

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from apierrors.ratelimit.base import CLOCK_SLACK_MS, Plan, Result, Store

# One lock for every in-process store: the critical section is a few dictionary operations,
# and two aliases may name the same LocMemCache storage.
_lock = threading.Lock()


class MemoryStore(Store):
    """Runs the Python algorithms against a Django cache, one check at a time."""

    # The fallback for every cache backend no other store serves (see ``store_class_for``).
    backends = ("django.core.cache.backends.base.BaseCache",)

    batches = True

    def run(self, tag: str, plan: Plan, now: int | None) -> Result:
        return self.run_keys(plan.keys(tag), plan, now)

    def run_keys(self, keys: list[str], plan: Plan, now: int | None) -> Result:
        cache = caches[self.alias]
        slack = CLOCK_SLACK_MS
        own_clock = now is None
        with _lock:
            if now is None:
                now = time.time_ns() // 1000
                slack = 0
            stored = cache.get_many(keys)
            result, writes = plan.algorithm.decide(
                [stored.get(key) for key in keys], now, plan.params, own_clock
            )
            if writes is not None:
                for key, (state, ttl_ms) in zip(keys, writes, strict=True):
                    # Whole seconds, rounded up: backends that truncate a timeout (Redis,
                    # memcached) would drop a state due to expire in under a second.
                    cache.set(key, state, timeout=math.ceil((ttl_ms + slack) / 1000))
        return result

    async def arun(self, tag: str, plan: Plan, now: int | None) -> Result:
        if isinstance(caches[self.alias], LocMemCache):
            return self.run(tag, plan, now)
        return await sync_to_async(self.run, thread_sensitive=True)(tag, plan, now)

    async def arun_keys(self, keys: list[str], plan: Plan, now: int | None) -> Result:
        if isinstance(caches[self.alias], LocMemCache):
            return self.run_keys(keys, plan, now)
        return await sync_to_async(self.run_keys, thread_sensitive=True)(keys, plan, now)

"""A stand-in for a store that could not be made, trying again with a backoff.

Making a store can fail on configuration: a URI that does not parse, a scheme no store
class serves, an optional driver that does not import. A throttle must not answer 500
for it, nor pay for the attempt on every request. ``UnmadeStore`` fails every check with
``StoreUnavailable`` (so ``FAIL_OPEN`` decides, and the outage is logged as any other)
and makes the store again once ``BREAKER_COOLDOWN`` has passed, then after twice that,
and so on, doubling up to ``MAX_BACKOFF`` seconds. Once made, the store takes its place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from apierrors.ratelimit.base import Plan, Result, Store, StoreUnavailable
from apierrors.ratelimit.config import current
from apierrors.ratelimit.uri import is_uri, redact, scrub

MAX_BACKOFF = 300.0
"""The longest wait between two attempts to make a store (seconds)."""


class UnmadeStore(Store):
    """Fails fast, and makes the real store again after a growing delay."""

    clock: Callable[[], float] = staticmethod(time.monotonic)
    """Monotonic seconds (replaceable in tests)."""

    def __init__(
        self,
        name: str,
        make: Callable[[str], Store],
        error: BaseException,
        replace: Callable[[str, Store], None],
    ) -> None:
        super().__init__(redact(name) if is_uri(name) else name)
        self.name = name
        self.make = make
        self.replace = replace
        self.attempts = 1
        self.made: Store | None = None
        self.error = self.describe(error)
        self.retry_at = self.clock() + self.delay()
        self._lock = threading.Lock()

    def describe(self, error: BaseException) -> str:
        return scrub(f"{type(error).__name__}: {error}", self.name)

    def delay(self) -> float:
        """Seconds until the next attempt: the cooldown, doubled after each failure."""
        cooldown = current().breaker_cooldown
        return float(min(cooldown * 2 ** (self.attempts - 1), max(MAX_BACKOFF, cooldown)))

    def check(self, tag: str, plan: Plan, now: int | None = None) -> Result:
        store = self.made or self.try_again()
        return store.check(tag, plan, now)

    def try_again(self) -> Store:
        if self.clock() < self.retry_at:
            raise StoreUnavailable(f"the store could not be made ({self.error})")
        with self._lock:
            if self.made is not None:
                return self.made
            if self.clock() < self.retry_at:
                raise StoreUnavailable(f"the store could not be made ({self.error})")
            try:
                store = self.make(self.name)
            except Exception as exc:
                self.attempts += 1
                self.error = self.describe(exc)
                self.retry_at = self.clock() + self.delay()
                raise StoreUnavailable(f"the store could not be made ({self.error})") from None
            self.made = store
        self.replace(self.name, store)
        return store

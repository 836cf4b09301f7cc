"""A circuit breaker, so that a store outage does not cost every request a socket timeout.

After ``BREAKER_FAILURES`` consecutive failures the breaker opens: for ``BREAKER_COOLDOWN``
seconds calls skip the store and fail at once. Then one call is let through as a trial; its
success closes the breaker, its failure opens it for another cooldown. Nothing needs a
restart when the store comes back. ``BREAKER_FAILURES = 0`` turns the breaker off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from apierrors.ratelimit.config import current


class CircuitBreaker:
    """Counts consecutive failures of one store and decides whether to try it.

    ``clock`` is monotonic seconds (injectable for tests).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.failures = 0
        self.open_until: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.open_until is not None

    def allow(self) -> bool:
        """Whether to call the store now (always, while closed)."""
        if not self.is_open:
            return True
        with self._lock:
            open_until = self.open_until  # another thread may have closed it meanwhile
            if open_until is None:
                return True
            now = self.clock()
            if now < open_until:
                return False
            # The trial call: every other caller keeps failing fast until it reports back.
            self.open_until = now + current().breaker_cooldown
            return True

    def success(self) -> None:
        if self.failures or self.open_until is not None:
            with self._lock:
                self.failures = 0
                self.open_until = None

    def failure(self) -> None:
        threshold = current().breaker_failures
        with self._lock:
            self.failures += 1
            if threshold and self.failures >= threshold:
                self.open_until = self.clock() + current().breaker_cooldown


class OutageLog:
    """Rate-limits the outage warning: one record per ``OUTAGE_LOG_INTERVAL`` seconds,
    saying how many checks failed since the last one."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.next_at = 0.0
        self.suppressed = 0
        self._lock = threading.Lock()

    def due(self) -> int | None:
        """``None`` while quiet; else the number of failures to report (this one included)."""
        with self._lock:
            now = self.clock()
            if now < self.next_at:
                self.suppressed += 1
                return None
            count, self.suppressed = self.suppressed + 1, 0
            self.next_at = now + current().outage_log_interval
            return count

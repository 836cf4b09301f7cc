"""Refusals remembered by each process, so that a refused client costs no round trip.

Once the store refuses a client's check, the refusal holds until its wait has passed: a
fixed window's count never goes down before the window ends, and a GCRA arrival time never
goes back. Until then every check of the same client and plan is refused again, so the
process answers it from memory, with the same numbers the store would give: remaining 0,
the same reset, and a wait (``Retry-After``) that counts down. A flood from one refused
client then costs one store call per process and refusal, not one per request.

Only refusals are remembered, so nothing is ever admitted that the store would refuse.
An entry expires when its wait has passed, measured from the moment *before* the check was
sent (the store's clock read the time after that), so it never outlives the store's
refusal; the next check asks the store again. With a caller's clock (a throttle's
``timer``) the entry is measured on that clock instead. The memory holds at most ``size``
entries; past that the oldest is dropped (it only costs a round trip).

``REMEMBER_DENIALS = False`` turns it off. State removed from the store behind the
throttle's back (a key deleted by hand) is not seen until the remembered wait has passed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from apierrors.ratelimit.algorithms import HEAD, WAIT, WIDTH

if TYPE_CHECKING:
    from apierrors.ratelimit.base import Plan, Result

SIZE = 10_000
"""Entries a memory holds by default."""


def _monotonic_us() -> int:
    return time.monotonic_ns() // 1000


class DeniedMemory:
    """The refusals of one store in this process, by plan and client tag.

    ``lookup`` gives the remembered refusal as a result (``None`` when there is none), and
    ``remember`` keeps a refused result; ``sent`` is the local clock (``clock``,
    microseconds) just before the check was sent, or ``None`` for a caller's ``now``.
    """

    def __init__(self, size: int = SIZE, clock: Callable[[], int] = _monotonic_us) -> None:
        self.size = size
        self.clock = clock
        # (plan, tag) -> (result, since, caller's clock?, wait): `since` is on `clock`, or
        # on the caller's clock (the result's `now`).
        self.entries: dict[tuple[Plan, str], tuple[Result, int, bool, int]] = {}
        self._lock = threading.Lock()

    def lookup(self, plan: Plan, tag: str, now: int | None) -> Result | None:
        entry = self.entries.get((plan, tag))
        if entry is None:
            return None
        result, since, callers, wait = entry
        if callers is not (now is not None):
            return None
        elapsed = (self.clock() if now is None else now) - since
        if elapsed >= wait or elapsed < 0:
            if elapsed >= wait:
                # Under the lock: `remember` may be finding the oldest entry meanwhile.
                with self._lock:
                    if self.entries.get((plan, tag)) is entry:
                        del self.entries[(plan, tag)]
            return None
        if len(result) == HEAD + WIDTH:
            return [0, result[1] + elapsed, result[2], result[3], wait - elapsed]
        out = list(result)
        out[1] += elapsed
        for at in range(HEAD + WAIT, len(out), WIDTH):
            if out[at]:
                out[at] = max(1, out[at] - elapsed)
        return out

    def remember(self, plan: Plan, tag: str, now: int | None, result: Result, sent: int) -> None:
        # The refusal lasts as long as its longest wait (the decisive policy's).
        wait = max(result[HEAD + WAIT :: WIDTH])
        if wait <= 0:
            return
        since = sent if now is None else result[1]
        entries = self.entries
        with self._lock:
            if len(entries) >= self.size and (plan, tag) not in entries:
                del entries[next(iter(entries))]
            entries[(plan, tag)] = (result, since, now is not None, wait)

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()

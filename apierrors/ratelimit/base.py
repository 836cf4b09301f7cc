"""The pieces every store shares: plans, the store interface, reading a result.

A ``Plan`` is what one throttle checks in one step: an algorithm and one policy per rate,
with the parameters and key names prepared once and reused for every request. A store
runs a plan against the state of one client (``tag``) and returns the algorithm's flat
result (see ``apierrors.ratelimit.algorithms``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from apierrors.ratelimit.algorithms import ALGORITHMS, Algorithm
from apierrors.ratelimit.breaker import OutageLog
from apierrors.ratelimit.rates import MICROS, Rate, parse_rate

# Keys expire by the store's clock; state written at a caller's time (an injected clock)
# lives this much longer, since the two clocks need not agree. The state says which window
# or arrival time it belongs to, so a key that outlives its use is harmless.
CLOCK_SLACK_MS = 60_000

Result = Sequence[int]
"""``[allowed, now, remaining_1, reset_1, wait_1, ...]``, times in microseconds."""


class StoreUnavailable(Exception):
    """The store could not be reached (or its circuit breaker is open)."""


@dataclass(frozen=True)
class Policy:
    """One rate of a plan: what the headers say about it and how its key is named."""

    rate: Rate
    limit: int
    """``X-RateLimit-Limit``: the rate's count, or the GCRA burst."""
    params: tuple[int, int]
    suffix: str


class Plan:
    """The policies one throttle checks together, prepared once per configuration."""

    __slots__ = ("algorithm", "args", "args_server_time", "policies", "prefix", "suffixes")

    def __init__(
        self, algorithm: Algorithm, rates: Sequence[Rate], burst: int | None, prefix: str
    ) -> None:
        self.algorithm = algorithm
        self.prefix = prefix
        self.policies = tuple(
            Policy(
                rate=rate,
                limit=algorithm.limit(rate, burst),
                params=algorithm.params(rate, burst),
                suffix=f"{algorithm.key_tag}:{algorithm.limit(rate, burst)}:{rate.period}",
            )
            for rate in rates
        )
        self.suffixes = tuple(f"}}:{policy.suffix}" for policy in self.policies)
        # Encoded once: the script arguments after `now` never change for a plan.
        self.args: tuple[bytes, ...] = tuple(
            str(value).encode() for policy in self.policies for value in policy.params
        )
        # An empty `now` tells a script to read the server's clock.
        self.args_server_time: tuple[bytes, ...] = (b"", *self.args)

    @property
    def params(self) -> list[tuple[int, int]]:
        return [policy.params for policy in self.policies]

    def keys(self, tag: str) -> list[str]:
        """The store keys of one client: one per policy, all sharing the hash tag ``{tag}``."""
        if "{" in tag or "}" in tag:
            # A brace inside the tag would move the hash tag Redis and sharding look at.
            tag = tag.replace("{", "(").replace("}", ")")
        head = f"{self.prefix}:{{{tag}"
        return [head + suffix for suffix in self.suffixes]

    def decisive(self, result: Result) -> int:
        """Index of the policy the headers describe.

        Allowed: the one with the fewest requests remaining (on a tie, the later reset).
        Denied: among the denying ones, the one that wants the longest wait.
        """
        count = len(self.policies)
        if count == 1:
            return 0
        best = 0
        if result[0]:
            for i in range(1, count):
                remaining, reset = result[2 + 3 * i], result[3 + 3 * i]
                best_remaining, best_reset = result[2 + 3 * best], result[3 + 3 * best]
                if remaining < best_remaining or (
                    remaining == best_remaining and reset > best_reset
                ):
                    best = i
        else:
            for i in range(1, count):
                if result[4 + 3 * i] > result[4 + 3 * best]:
                    best = i
        return best


@lru_cache(maxsize=256)
def plan_for(rates: tuple[str, ...], algorithm: str, burst: int | None, prefix: str) -> Plan:
    """The plan for a configuration; raises ``RateError`` or ``KeyError`` for bad ones."""
    return Plan(ALGORITHMS[algorithm], [parse_rate(rate) for rate in rates], burst, prefix)


class Store:
    """Where rate-limit state lives, for one cache alias. Override ``check``.

    ``check`` runs ``plan`` for the client ``tag`` at ``now`` (microseconds; ``None`` means
    the store's own clock) in one atomic step and returns the algorithm's result. It raises
    ``StoreUnavailable`` when the state cannot be reached.
    """

    shared: bool = False
    """Whether the state is shared by every process that uses the store (system checks)."""
    atomic: bool = False
    """Whether one check is one atomic step across processes, so limits are exact."""
    backends: tuple[str, ...] = ()
    """Dotted paths of the cache backend classes this store serves (subclasses included)."""
    schemes: tuple[str, ...] = ()
    """URI schemes this store serves (``APIERRORS["THROTTLE_STORE"]``)."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.outage_log = OutageLog()

    def check(self, tag: str, plan: Plan, now: int | None = None) -> Result:
        raise NotImplementedError


def micros(seconds: float) -> int:
    """Seconds (as ``time.time()`` gives them) to whole microseconds."""
    return round(seconds * MICROS)

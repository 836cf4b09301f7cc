"""Plans and decisions: what a throttle checks in one step, and reading its result.

A ``Plan`` is what one throttle checks in one step: an algorithm and one policy per rate,
with the parameters and key names prepared once and reused for every request
(``plan_for``); ``combined_plan`` joins several throttles' plans into one step. A store
runs a plan against the state of one client (``tag``) and returns the algorithm's flat
result (see ``apierrors.ratelimit.algorithms``); a ``Decision`` reads that result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from apierrors.ratelimit.algorithms import (
    ALGORITHMS,
    HEAD,
    REMAINING,
    RESET,
    WAIT,
    WIDTH,
    Algorithm,
    Mixed,
)
from apierrors.ratelimit.rates import Rate, parse_rate

Result = Sequence[int]
"""``[allowed, now, remaining_1, reset_1, wait_1, ...]``, times in microseconds."""


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

    __slots__ = (
        "algorithm",
        "args",
        "args_server_time",
        "limit_texts",
        "policies",
        "prefix",
        "suffixes",
    )

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
                suffix=_policy_suffix(algorithm.key_tag, algorithm.limit(rate, burst), rate),
            )
            for rate in rates
        )
        self.suffixes = tuple(f"}}{policy.suffix}" for policy in self.policies)
        # `X-RateLimit-Limit` of each policy, as sent.
        self.limit_texts = tuple(str(policy.limit) for policy in self.policies)
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
        """The store keys of one client: one per policy, all sharing the hash tag ``{tag}``.

        ``<prefix>{<tag>}<policy>``, e.g. ``rl{~user_42}frs.2s0`` for the DRF-style cache
        key ``throttle_user_42`` and a fixed window of 1000 per 3600 seconds: the policy is
        the algorithm's letter, then the limit and the period in seconds in base 36. The
        key's length is most of what a client costs in Redis, so the ``throttle_`` that
        DRF-style cache keys start with is written ``~``; a tag that starts with ``~`` or
        ``=`` itself gets a leading ``=``, so that no two tags meet.

        Redis Cluster hashes only what is between the first ``{`` and the next ``}``, so
        the keys of one check are in one slot, on one server. An empty hash tag (``{}``)
        would hash each whole key instead: an empty ``tag`` is written ``()``, as a tag
        ``{}`` is.
        """
        if "{" in tag or "}" in tag:
            # A brace inside the tag would move the hash tag Redis and sharding look at.
            tag = tag.replace("{", "(").replace("}", ")")
        elif not tag:
            tag = "()"
        elif tag.startswith("throttle_"):
            tag = "~" + tag[9:]
        elif tag.startswith(("~", "=")):
            tag = "=" + tag
        head = f"{self.prefix}{{{tag}"
        suffixes = self.suffixes
        if len(suffixes) == 1:  # one rate, the usual case
            return [head + suffixes[0]]
        return [head + suffix for suffix in suffixes]


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if not number:
            return text


def _policy_suffix(key_tag: str, limit: int, rate: Rate) -> str:
    return f"{key_tag}{_base36(limit)}.{_base36(rate.period)}"


@lru_cache(maxsize=256)
def plan_for(rates: tuple[str, ...], algorithm: str, burst: int | None, prefix: str) -> Plan:
    """The plan for a configuration; raises ``RateError`` or ``KeyError`` for bad ones."""
    return Plan(ALGORITHMS[algorithm], [parse_rate(rate) for rate in rates], burst, prefix)


@lru_cache(maxsize=256)
def combined_plan(plans: tuple[Plan, ...]) -> Plan:
    """The plan of several throttles' plans, checked in one step.

    Its policies are the parts' policies in order, each with its own key (the part's
    ``keys(tag)``), so one script call checks every part and consumes one unit of each
    policy, or, when any policy denies, nothing at all: the rule of one multi-rate plan,
    across throttles. Parts of several algorithms make a ``Mixed`` plan, whose script
    takes the policies' algorithms after ``now``. ``Store.check_many`` cuts the result back
    into the parts'.
    """
    combined = object.__new__(Plan)
    combined.prefix = ""
    combined.suffixes = ()
    combined.policies = tuple(policy for plan in plans for policy in plan.policies)
    combined.limit_texts = tuple(text for plan in plans for text in plan.limit_texts)
    args = tuple(arg for plan in plans for arg in plan.args)
    algorithm = plans[0].algorithm
    if all(plan.algorithm is algorithm for plan in plans):
        combined.algorithm = algorithm
    else:
        mixed = Mixed([plan.algorithm for plan in plans for _ in plan.policies])
        combined.algorithm = mixed
        args = (mixed.kinds, *args)
    combined.args = args
    combined.args_server_time = (b"", *args)
    return combined


class Decision:
    """One check's result, read once: whether it allowed, and the decisive policy's numbers.

    The decisive policy (``index`` in the plan) is the one the headers describe and
    ``Retry-After`` waits for:

    - allowed: the one with the fewest requests remaining (on a tie, the later reset);
    - denied: among the denying ones, the one that wants the longest wait.

    ``remaining``, ``reset`` (an instant) and ``wait`` (a duration) are its numbers, times in
    microseconds; ``policy(i)`` gives any policy's. Built on every check, so it copies
    nothing it does not need.
    """

    __slots__ = ("allowed", "index", "now", "remaining", "reset", "result", "wait")

    allowed: bool
    now: int
    index: int
    remaining: int
    reset: int
    wait: int

    def __init__(self, result: Result) -> None:
        self.result = result
        if len(result) == HEAD + WIDTH:
            # One policy, the common case: it is the decisive one.
            allowed, self.now, self.remaining, self.reset, self.wait = result
            self.allowed = allowed != 0
            self.index = 0
            return
        self.allowed = allowed = result[0] != 0
        self.now = result[1]
        self.index = index = _decisive(result, allowed)
        base = HEAD + WIDTH * index
        self.remaining = result[base + REMAINING]
        self.reset = result[base + RESET]
        self.wait = result[base + WAIT]

    @property
    def count(self) -> int:
        """How many policies the result has."""
        return (len(self.result) - HEAD) // WIDTH

    def policy(self, index: int) -> PolicyOutcome:
        """The numbers of the plan's policy ``index``."""
        if not 0 <= index < self.count:
            raise IndexError(index)
        base = HEAD + WIDTH * index
        remaining, reset, wait = self.result[base : base + WIDTH]
        return PolicyOutcome(remaining, reset, wait)


class PolicyOutcome(NamedTuple):
    """One policy's part of a result (times in microseconds)."""

    remaining: int
    reset: int
    wait: int


def _decisive(result: Result, allowed: bool) -> int:
    best = HEAD
    if allowed:
        for base in range(HEAD + WIDTH, len(result), WIDTH):
            remaining, best_remaining = result[base + REMAINING], result[best + REMAINING]
            if remaining < best_remaining or (
                remaining == best_remaining and result[base + RESET] > result[best + RESET]
            ):
                best = base
    else:
        for base in range(HEAD + WIDTH, len(result), WIDTH):
            if result[base + WAIT] > result[best + WAIT]:
                best = base
    return (best - HEAD) // WIDTH

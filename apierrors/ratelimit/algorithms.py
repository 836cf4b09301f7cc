"""Rate-limiting algorithms, each as a Lua script (for Redis) and the same logic in Python.

An algorithm decides one request against one or more policies in one step. Both forms take
the stored state of each policy's key (a short string), the time in microseconds and the
policy parameters, and give the same answer, a flat list of integers::

    [allowed, now, remaining_1, reset_1, wait_1, remaining_2, reset_2, wait_2, ...]

(the cheap wire format of a script's reply; Python code reads it through
``apierrors.ratelimit.base.Decision``, and ``HEAD``/``WIDTH`` below say its layout)

plus, when the request is allowed, the new state and time-to-live of each key. A request
that any policy denies writes nothing, so it consumes no policy's quota. The tests run the
two forms side by side on the same request sequences.

To add an algorithm, subclass ``Algorithm``, write its ``.lua`` beside this module (three
sections, ``-- @prelude``, ``-- @check`` and ``-- @finish``, as ``gcra.lua``) and add an
instance to ``ALGORITHMS``. A script is ``clock.lua`` (it sets ``now``, ``slack`` and the
reply ``out`` from ``ARGV[1]``), the algorithm's prelude and ``driver.lua`` with the
algorithm's check and finish sections in its two loops: every policy is checked before
any is finished. The sections are placed as text, not called as Lua functions, so a script
makes no closure and no call per key. ``Mixed`` checks the policies of several algorithms
in one step (several throttles of a view): its script holds every algorithm's sections,
chosen per key by ``mixed.lua``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import ClassVar

from apierrors.ratelimit.rates import Rate

State = str | bytes | None
Write = tuple[str, int]
"""A key's new state and its time-to-live in milliseconds."""
Params = Sequence[tuple[int, int]]
"""Each policy's two integers (``Algorithm.params``)."""
Outcome = tuple[list[int], list[Write] | None]
"""The flat result, and the writes when the request is allowed (else ``None``)."""

HEAD = 2
"""Integers before the first policy's: ``allowed``, ``now``."""
WIDTH = 3
"""Integers per policy: ``remaining``, ``reset``, ``wait``."""
REMAINING, RESET, WAIT = range(WIDTH)


class Algorithm:
    """One algorithm: its name, its Lua source and ``decide``, the same logic in Python.

    Override ``params`` (the integers the algorithm needs per policy), ``limit`` (what
    ``X-RateLimit-Limit`` says) and ``decide``.
    """

    name: ClassVar[str]
    key_tag: ClassVar[str]
    """Short name in store keys, so that switching algorithms never misreads a state."""

    @cached_property
    def source(self) -> str:
        """The script: ``clock.lua`` (the clock every script starts with), the algorithm's
        prelude, then ``driver.lua`` with its check and finish sections in place."""
        sections = _sections(self.name)
        return _place(
            _lua("clock") + sections["prelude"] + _lua("driver"),
            check=_block(sections["check"]),
            finish=_block(sections["finish"]),
        )

    def params(self, rate: Rate, burst: int | None) -> tuple[int, int]:
        raise NotImplementedError

    def limit(self, rate: Rate, burst: int | None) -> int:
        return rate.limit

    def decide(
        self,
        states: Sequence[State],
        now: int,
        params: Params,
        own_clock: bool = False,
        refused: bool = False,
    ) -> Outcome:
        """``own_clock``: ``now`` is the store's own clock (not a caller's), as the scripts
        are told by an empty ``now``; an algorithm may then store its state differently.
        ``refused``: policies checked in the same step (another algorithm's) refuse the
        request, so these count nothing, as when one of their own refuses."""
        raise NotImplementedError


def _lua(name: str) -> str:
    return Path(__file__).with_name(f"{name}.lua").read_text(encoding="utf-8")


def _sections(name: str) -> dict[str, str]:
    """The ``-- @prelude``, ``-- @check`` and ``-- @finish`` sections of ``<name>.lua``."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _lua(name).splitlines(keepends=True):
        marker = line.strip()
        if marker in ("-- @prelude", "-- @check", "-- @finish"):
            current = sections.setdefault(marker[4:], [])
        elif current is not None:
            current.append(line)
    if set(sections) != {"prelude", "check", "finish"}:
        raise ValueError(f"{name}.lua needs the sections @prelude, @check and @finish")
    return {section: "".join(lines) for section, lines in sections.items()}


def _block(code: str) -> str:
    """A section as a block of its own, so that its locals stay in it."""
    return f"do\n{code}end\n"


def _place(driver: str, **sections: str) -> str:
    """``driver`` with each ``-- @<section>`` line replaced by the code given for it."""
    lines = []
    for line in driver.splitlines(keepends=True):
        marker = line.strip()
        lines.append(sections.get(marker[4:], line) if marker.startswith("-- @") else line)
    return "".join(lines)


def _text(state: State) -> str | None:
    return state.decode() if isinstance(state, bytes) else state


def _ceil_ms(micros: int) -> int:
    return -(-micros // 1000)


class FixedWindow(Algorithm):
    """At most ``limit`` requests per window; windows are aligned to the epoch, so every
    client's window ends at the same instant (``X-RateLimit-Reset`` is the window's end).

    Cheapest and easiest to explain; a client may spend two windows' quota around a
    window boundary. The state is one integer: ``count * 2 + parity`` of the window on the
    store's own clock (a small integer Redis keeps without an object), ``code * 2**32 +
    count`` on a caller's clock, where ``code`` names the window (see ``fixed_window.lua``).
    """

    name = "fixed_window"
    key_tag = "f"
    SPAN = 2**32
    CYCLE = 2**20

    def params(self, rate: Rate, burst: int | None) -> tuple[int, int]:
        return rate.limit, rate.period_us

    def decide(
        self,
        states: Sequence[State],
        now: int,
        params: Params,
        own_clock: bool = False,
        refused: bool = False,
    ) -> Outcome:
        span = self.SPAN
        allowed = 1
        outcomes: list[list[int]] = []
        values: list[int] = []
        for state, (limit, period) in zip(states, params, strict=True):
            window = now // period
            reset = (window + 1) * period
            stored = int(state) if state is not None else 0
            if own_clock:
                # count * 2 + the window's parity; the key ends with its window.
                parity = window % 2
                value = stored + 2
                count = (value - parity) // 2
                if value >= span or value % 2 != parity:
                    count = 1
                    value = 2 + parity
            else:
                code = window % self.CYCLE + 1
                value = stored + 1
                count = value % span
                if value - count != code * span:
                    count = 1
                    value = code * span + 1
            values.append(value)
            if count > limit:
                allowed = 0
                outcomes.append([0, reset, reset - now])
            else:
                outcomes.append([limit - count, reset, 0])
        if not allowed or refused:
            return _denied(now, outcomes), None
        writes = [
            (str(value), _ceil_ms(outcome[RESET] - now))
            for value, outcome in zip(values, outcomes, strict=True)
        ]
        return _flat(1, now, outcomes), writes


class GCRA(Algorithm):
    """The generic cell rate algorithm: requests are spaced ``period / limit`` apart on
    average, and up to ``burst`` (default: the limit) may come at once.

    Smooth: no boundary where two windows' quota can be spent together, and a client that
    waits regains quota gradually rather than all at the window's end.
    ``X-RateLimit-Reset`` is when the burst is whole again.
    """

    name = "gcra"
    key_tag = "g"

    def params(self, rate: Rate, burst: int | None) -> tuple[int, int]:
        # Rounded up so that `limit` requests never fit in less than `period`.
        interval = -(-rate.period_us // rate.limit)
        return interval, interval * self.limit(rate, burst)

    def limit(self, rate: Rate, burst: int | None) -> int:
        return rate.limit if burst is None else burst

    def decide(
        self,
        states: Sequence[State],
        now: int,
        params: Params,
        own_clock: bool = False,
        refused: bool = False,
    ) -> Outcome:
        allowed = 1
        outcomes: list[list[int]] = []
        tats: list[int] = []
        for state, (interval, tolerance) in zip(states, params, strict=True):
            stored = _text(state)
            tat = int(stored) if stored is not None else now
            tat = max(tat, now)
            new_tat = tat + interval
            allow_at = new_tat - tolerance
            tats.append(new_tat)
            if allow_at > now:
                allowed = 0
                outcomes.append([0, tat, allow_at - now])
            else:
                # Float division and floor, exactly as Lua computes it.
                outcomes.append([math.floor((tolerance - (new_tat - now)) / interval), tat, 0])
        if not allowed or refused:
            return _denied(now, outcomes), None
        writes: list[Write] = []
        for outcome, new_tat in zip(outcomes, tats, strict=True):
            outcome[RESET] = new_tat
            writes.append((str(new_tat), _ceil_ms(new_tat - now)))
        return _flat(1, now, outcomes), writes


def _flat(allowed: int, now: int, outcomes: list[list[int]]) -> list[int]:
    """The result in the scripts' format (see the module's docstring)."""
    out = [allowed, now]
    for outcome in outcomes:
        out += outcome
    return out


def _denied(now: int, outcomes: list[list[int]]) -> list[int]:
    # A denied request consumes nothing: a policy that allowed it gives back the request it
    # counted, so its `remaining` is what it was before.
    for outcome in outcomes:
        if outcome[WAIT] == 0:
            outcome[REMAINING] += 1
    return _flat(0, now, outcomes)


ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm for algorithm in (FixedWindow(), GCRA())
}


class Mixed(Algorithm):
    """The policies of several algorithms, checked in one step, all or none.

    Made for the combined plan of a view's throttles (``base.combined_plan``) when they do
    not share one algorithm: ``algorithms`` names each policy's. Its script holds every
    algorithm of ``ALGORITHMS`` and ``mixed.lua``, and takes the policies' algorithms as
    one more argument after ``now`` (``kinds``: their key tags), so one script serves every
    mix.
    """

    name = "mixed"
    key_tag = "m"

    def __init__(self, algorithms: Sequence[Algorithm]) -> None:
        known = {algorithm.key_tag: algorithm for algorithm in ALGORITHMS.values()}
        for algorithm in algorithms:
            if len(algorithm.key_tag) != 1 or known.get(algorithm.key_tag) is not algorithm:
                # The script finds each policy's functions by a one-letter tag.
                raise ValueError(f"{algorithm.name!r} cannot be mixed with other algorithms")
        self.algorithms = tuple(algorithms)
        self.kinds = "".join(algorithm.key_tag for algorithm in self.algorithms).encode()

    @cached_property
    def source(self) -> str:
        return _mixed_source()

    def decide(
        self,
        states: Sequence[State],
        now: int,
        params: Params,
        own_clock: bool = False,
        refused: bool = False,
    ) -> Outcome:
        # Each algorithm decides its own policies; when any refuses, those that allowed
        # decide again, refused, so that nothing is counted.
        at: dict[Algorithm, list[int]] = {}
        for index, algorithm in enumerate(self.algorithms):
            at.setdefault(algorithm, []).append(index)

        def run(algorithm: Algorithm, refuse: bool) -> Outcome:
            indexes = at[algorithm]
            return algorithm.decide(
                [states[i] for i in indexes], now, [params[i] for i in indexes], own_clock, refuse
            )

        outcomes = {algorithm: run(algorithm, refused) for algorithm in at}
        allowed = not refused and all(result[0] for result, _ in outcomes.values())
        if not allowed:
            outcomes = {
                algorithm: run(algorithm, True) if outcome[0][0] else outcome
                for algorithm, outcome in outcomes.items()
            }
        flat = [int(allowed), now, *[0] * (WIDTH * len(self.algorithms))]
        writes: list[Write] = [("", 0)] * len(self.algorithms)
        for algorithm, (result, own_writes) in outcomes.items():
            for n, index in enumerate(at[algorithm]):
                start = HEAD + WIDTH * index
                flat[start : start + WIDTH] = result[HEAD + WIDTH * n : HEAD + WIDTH * (n + 1)]
                if own_writes is not None:
                    writes[index] = own_writes[n]
        return flat, writes if allowed else None


@cache
def _mixed_source() -> str:
    # Every algorithm's prelude, then mixed.lua with, in each loop, the algorithm's section
    # under a test of the policy's letter.
    sections = {algorithm.key_tag: _sections(algorithm.name) for algorithm in ALGORITHMS.values()}

    def chosen(part: str) -> str:
        branches = [
            f'{"if" if i == 0 else "elseif"} kind == "{tag}" then\n{found[part]}'
            for i, (tag, found) in enumerate(sections.items())
        ]
        return "".join(branches) + "end\n"

    preludes = "".join(found["prelude"] for found in sections.values())
    return _place(
        _lua("clock") + preludes + _lua("mixed"), check=chosen("check"), finish=chosen("finish")
    )

"""The system check for DRF throttle idioms apierrors cannot honour (``apierrors.E108``,
``E109``; docs/checks.md).

A throttle written for DRF's ``SimpleRateThrottle`` may read state apierrors' throttles do
not keep (``history``, ``now``, ``num_requests``, ``duration``). Such methods are found in
their bytecode, so the project hears of them at start-up rather than through a request.
"""

from __future__ import annotations

import dis
import types
from collections.abc import Iterator
from typing import Any

from django.core import checks

from apierrors.checks import CheckResult
from apierrors.ratelimit.in_use import throttles_in_use

# DRF's SimpleRateThrottle state that apierrors' throttles neither keep nor read, and what
# to use instead.
DRF_ONLY_ATTRIBUTES = {
    "history": "self.decision (remaining, reset, wait) or self.result",
    "now": "self.decision.now (microseconds), or a timer for tests",
    "num_requests": "rate/rates (or get_rate/parse_rate); the plan's self.plan.policies",
    "duration": "rate/rates (or get_rate/parse_rate); the plan's self.plan.policies",
    "rate": "self.get_rate(), since rate is set only where the class sets it",
}


def _code_objects(value: object) -> Iterator[types.CodeType]:
    function = value
    if isinstance(value, staticmethod | classmethod):
        function = value.__func__
    elif isinstance(value, property):
        for accessor in (value.fget, value.fset, value.fdel):
            if accessor is not None:
                yield from _code_objects(accessor)
        return
    code = getattr(function, "__code__", None)
    if isinstance(code, types.CodeType):
        yield code


def _self_attributes(code: types.CodeType, me: str | None = None) -> tuple[set[str], set[str]]:
    """The attributes a method reads, and those it writes, on its first argument
    (``self.x``), ``me`` for the functions nested in it (lambdas, generator expressions,
    comprehensions before Python 3.12, inner functions), which reach ``self`` as a free
    variable. A method with such a function holds ``self`` in a cell, loaded with
    ``LOAD_DEREF`` rather than ``LOAD_FAST``, in its own code too."""
    reads: set[str] = set()
    writes: set[str] = set()
    if me is None:
        if not code.co_argcount:
            return reads, writes
        me = code.co_varnames[0]
    previous: dis.Instruction | None = None
    for instruction in dis.get_instructions(code):
        if (
            instruction.opname in ("LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR")
            and previous is not None
            and _loads(previous, me)
        ):
            name = str(instruction.argval)
            (reads if instruction.opname.startswith("LOAD") else writes).add(name)
        previous = instruction
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType) and me in constant.co_freevars:
            nested_reads, nested_writes = _self_attributes(constant, me)
            reads |= nested_reads
            writes |= nested_writes
    return reads, writes


def _loads(instruction: dis.Instruction, name: str) -> bool:
    """Whether ``instruction`` loads the local ``name`` (3.13's ``LOAD_FAST_LOAD_FAST``
    loads two at once; a local held in a cell is loaded with ``LOAD_DEREF``)."""
    if instruction.opname.startswith("LOAD_FAST"):
        value = instruction.argval
        return name in (value if isinstance(value, tuple) else (value,))
    return instruction.opname == "LOAD_DEREF" and instruction.argval == name


def drf_only_attributes(cls: type) -> dict[str, set[str]]:
    """``{method: DRF-only attributes it uses}`` over the methods of ``cls`` and its bases
    written outside apierrors and DRF. ``rate`` counts when it is read but neither a class
    attribute nor set by a method (DRF's throttles set it from the scope)."""
    uses: dict[str, tuple[set[str], set[str]]] = {}
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] in ("apierrors", "rest_framework", "builtins"):
            continue
        for name, value in vars(klass).items():
            for code in _code_objects(value):
                reads, writes = _self_attributes(code)
                entry = uses.setdefault(f"{klass.__qualname__}.{name}", (set(), set()))
                entry[0].update(reads)
                entry[1].update(writes)
    rate_is_set = getattr(cls, "rate", None) is not None or any(
        "rate" in writes for _reads, writes in uses.values()
    )
    found: dict[str, set[str]] = {}
    for method, (reads, writes) in uses.items():
        used = (reads | writes) & (DRF_ONLY_ATTRIBUTES.keys() - {"rate"})
        if "rate" in reads and not rate_is_set:
            used.add("rate")
        if used:
            found[method] = used
    return found


def check_drf_idioms(**kwargs: Any) -> CheckResult:
    """DRF throttle idioms apierrors cannot honour fail here, at start-up."""
    from apierrors.ratelimit.aliases import cache_alias_of

    messages: CheckResult = []
    for cls in dict.fromkeys(cls for cls, _view in throttles_in_use()):
        for method, names in sorted(drf_only_attributes(cls).items()):
            instead = "; ".join(f"{name}: {DRF_ONLY_ATTRIBUTES[name]}" for name in sorted(names))
            messages.append(
                checks.Error(
                    f"Throttle {cls.__qualname__}: {method}() uses "
                    f"{', '.join(sorted(names))} of DRF's SimpleRateThrottle, which "
                    "apierrors' throttles do not keep.",
                    hint=f"Instead: {instead}. See 'Coming from DRF's throttles' in the "
                    "throttling docs.",
                    obj=cls,
                    id="apierrors.E108",
                )
            )
        cache = getattr(cls, "cache", None)
        if cache is not None and cache_alias_of(cache) is None:
            messages.append(
                checks.Error(
                    f"Throttle {cls.__qualname__} sets cache to {cache!r}, which is not a "
                    "cache of CACHES.",
                    hint='Name the cache instead: cache_alias = "<alias in CACHES>".',
                    obj=cls,
                    id="apierrors.E109",
                )
            )
    return messages

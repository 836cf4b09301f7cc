"""A view's throttles in one store call: one round trip per request, all or none.

DRF runs a view's throttles one by one (``APIView.check_throttles``): each
``allow_request`` would be a round trip of its own, and a request that the second
throttle refuses would already have been counted by the first. Instead, the first of the
view's apierrors throttles that DRF calls checks them all:

1. it makes the view's throttles (``view.get_throttles()``, as DRF does) and prepares
   each one's plan, key and store, as its own ``allow_request`` would;
2. it checks, per store, every throttle's policies in one step (``Store.check_many``: one
   script call on Redis, whatever their algorithms), all or none, exactly as the policies
   of one multi-rate throttle: a request any of them refuses consumes nothing from the
   others;
3. it keeps each throttle's result on the request; when DRF calls the next throttles,
   each takes its own result (by class, in order) instead of asking the store again,
   and goes on as usual: its hooks, the headers, the signals.

A view's throttles are those ``get_throttles()`` makes, for views whose
``throttle_classes`` lists two or more classes or that override ``get_throttles`` (to
choose throttles per action or method), and whose ``check_throttles`` is DRF's or adrf's
(a view's own may call only some of its throttles, and a batch would count the others).

Only throttles that take the standard path are checked together: classes that override
``allow_request`` or ``aallow_request`` are checked by themselves, as before, and so are
classes that override ``throttle_failure`` (one that returns ``True`` lets a refused
request through, which the others must then count). A throttle whose keys another
throttle of the batch already has (one class listed twice) is checked after it, in a call
of its own, so that it sees the other's count, as one by one. Throttles with a ``timer``
of their own are checked together when they share it (read once per batch). Throttles of
different algorithms share one call (a ``Mixed`` plan); throttles on different stores
make one call per store, all or none within each. A store that cannot check several keys
in one step (a Redis Cluster, whose throttles' keys are in different slots; django-redis
shards; a store of your own that only implements ``run``) checks each throttle by itself,
in one call each.

Where a remembered refusal (``REMEMBER_DENIALS``) refuses the request, the other
throttles are not asked: they let DRF's loop go on without headers of their own, and the
refusal's answers the request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from apierrors import signals
from apierrors.ratelimit.base import Plan, Result, Store, StoreUnavailable, micros

if TYPE_CHECKING:
    from apierrors.throttling import RateLimitThrottle

BATCH_ATTR = "_apierrors_throttle_batch"
"""Where the batch of the request's view lives (on the DRF request, one per dispatch)."""

Prepared: TypeAlias = "tuple[Plan, str, Store] | None"
Outcome: TypeAlias = "Result | StoreUnavailable | None"


class Entry:
    """One throttle's part of a batch: the throttle that prepared it, and its outcome."""

    __slots__ = ("klass", "latency", "now", "outcome", "prepared", "taken", "throttle")

    def __init__(
        self, throttle: RateLimitThrottle, prepared: Prepared, readings: dict[int, Any]
    ) -> None:
        self.throttle = throttle
        self.klass = type(throttle)
        self.prepared = prepared
        timer = throttle.timer
        # The throttle's clock, read as its own check would (None: the store's clock), once
        # per clock and batch (``readings``: id -> (clock, time)), so that throttles on one
        # clock (DRF's ``time.time``) agree and are checked together.
        now = None
        if timer is not None and prepared is not None:
            reading = readings.get(id(timer))
            if reading is None:
                # The clock is kept beside its time, so that its id is not reused meanwhile.
                reading = readings[id(timer)] = (timer, micros(timer()))
            now = reading[1]
        self.now = now
        self.outcome: Outcome = None
        self.latency: float | None = None
        self.taken = False

    def started(self) -> float:
        """A ``signals.listening()`` reading that gives the batch's latency, or 0."""
        return 0.0 if self.latency is None else time.perf_counter() - self.latency


class Batch:
    """The outcomes of one view's throttles for one request, taken in DRF's order."""

    __slots__ = ("checked", "entries", "first", "left")

    def __init__(self, first: type, entries: list[Entry]) -> None:
        self.first = first
        self.entries = entries
        self.left = len(entries)
        # Async code only: set once the store has answered, for throttles awaited at the
        # same time as the one that checks (``asyncio.gather``).
        self.checked: asyncio.Event | None = None

    def take(self, klass: type) -> Entry | None:
        """The first entry of ``klass`` not taken yet (DRF calls a view's throttles in the
        order ``get_throttles`` made them)."""
        for entry in self.entries:
            if entry.klass is klass and not entry.taken:
                entry.taken = True
                self.left -= 1
                return entry
        return None

    @property
    def exhausted(self) -> bool:
        return not self.left


# The batchable classes of a view's throttle classes (None: fewer than two).
_batchable: dict[tuple[Any, ...], tuple[type, ...] | None] = {}
_standard: dict[type, bool] = {}


def standard(klass: Any) -> bool:
    """Whether ``klass`` checks on the standard path (no ``allow_request`` of its own) and
    its refusals refuse the request (no ``throttle_failure`` of its own: one that returns
    ``True``, to log a limit before enforcing it, would let through a request that the
    batch, refused, counted for none of the view's throttles)."""
    known = _standard.get(klass)
    if known is None:
        from apierrors.throttling import RateLimitThrottle

        known = _standard[klass] = (
            isinstance(klass, type)
            and issubclass(klass, RateLimitThrottle)
            and klass.allow_request is RateLimitThrottle.allow_request
            and klass.aallow_request is RateLimitThrottle.aallow_request
            and klass.throttle_failure is RateLimitThrottle.throttle_failure
        )
    return known


def batchable(classes: Sequence[Any]) -> tuple[type, ...] | None:
    """The classes of ``classes`` that a batch checks, or ``None`` for fewer than two."""
    key = tuple(classes)
    try:
        return _batchable[key]
    except KeyError:
        pass
    except TypeError:  # unhashable items: not throttle classes as DRF documents them
        return None
    found = tuple(klass for klass in key if standard(klass))
    result = _batchable[key] = found if len(found) > 1 else None
    return result


def _throttles(view: Any) -> list[RateLimitThrottle] | None:
    """The view's standard throttles, made as DRF makes them, when there are two or more."""
    classes = getattr(view, "throttle_classes", None)
    if classes is None:
        return None
    get_throttles = getattr(type(view), "get_throttles", None)
    if get_throttles is None:
        return None
    if get_throttles is _drf_get_throttles():
        found = batchable(classes)
        return None if found is None else [klass() for klass in found]
    made = [throttle for throttle in view.get_throttles() if standard(type(throttle))]
    return made if len(made) > 1 else None


_drf_default: list[Any] = []

# What a view class's own methods let a batch do (``_view_kind``).
NEVER, LISTED, CHOSEN = 0, 1, 2
_view_kinds: dict[type, int] = {}

# Views whose ``check_throttles`` calls every throttle ``get_throttles`` makes, as DRF's:
# adrf's (its async views) splits them into sync and async ones and calls them all.
_CALLS_EVERY_THROTTLE = frozenset({"rest_framework.views", "adrf.views"})


def _view_kind(view_class: type) -> int:
    """``NEVER`` for a view whose ``check_throttles`` is its own (it may call only some of
    its throttles, and a batch would count the others), ``CHOSEN`` for one that overrides
    ``get_throttles`` (its throttles may be others than ``throttle_classes`` names, per
    action or method, as DRF's guide suggests), else ``LISTED``: a batch when
    ``throttle_classes`` lists two or more."""
    known = _view_kinds.get(view_class)
    if known is None:
        check_throttles = getattr(view_class, "check_throttles", None)
        get_throttles = getattr(view_class, "get_throttles", None)
        if getattr(check_throttles, "__module__", None) not in _CALLS_EVERY_THROTTLE:
            known = NEVER
        elif get_throttles is not None and get_throttles is not _drf_get_throttles():
            known = CHOSEN
        else:
            known = LISTED
        _view_kinds[view_class] = known
    return known


def _drf_get_throttles() -> Any:
    if not _drf_default:
        # Here, not at import: DRF imports throttle classes while its views module loads.
        from rest_framework.views import APIView

        _drf_default.append(APIView.get_throttles)
    return _drf_default[0]


def take(throttle: RateLimitThrottle, request: Any, view: Any) -> Entry | None:
    """``throttle``'s entry in the batch of ``request``'s view, checking the batch first
    when ``throttle`` is the first of them; ``None`` when it checks by itself."""
    batch, new = _batch_for(throttle, request, view)
    if batch is None:
        return None
    if new:
        _check(batch)
    return batch.take(type(throttle))


async def atake(throttle: RateLimitThrottle, request: Any, view: Any) -> Entry | None:
    """``take`` for async code: the store calls are awaited."""
    batch, new = _batch_for(throttle, request, view)
    if batch is None:
        return None
    entry = batch.take(type(throttle))  # first: throttles awaited together take in order
    if new:
        batch.checked = asyncio.Event()
        try:
            await _acheck(batch)
        finally:
            batch.checked.set()
        return entry
    checked = batch.checked
    if entry is not None and checked is not None and not checked.is_set():
        # Awaited beside the throttle that checks the batch: its outcome is not in yet.
        await checked.wait()
    return entry


def _batch_for(throttle: RateLimitThrottle, request: Any, view: Any) -> tuple[Batch | None, bool]:
    """The batch ``throttle`` takes its entry from: the request's, or a new one when there
    is none or when ``throttle`` begins the view's throttles again; and whether it is new
    (to check). ``None`` when the view's throttles are not checked together."""
    batch: Batch | None = request.__dict__.get(BATCH_ATTR)
    if batch is None:
        # Asked on every request of every view: a view of one throttle (or not a DRF view:
        # a throttle called by hand, athrottle's function) is answered at once.
        classes = getattr(view, "throttle_classes", None)
        if classes is None:
            return None, False
        kind = _view_kinds.get(type(view))
        if kind is None:
            kind = _view_kind(type(view))
        if kind == NEVER or (kind == LISTED and len(classes) < 2):
            return None, False
    elif not (batch.first is type(throttle) and batch.exhausted):
        return batch, False
    batch = _new_batch(throttle, request, view)
    if batch is not None:
        request.__dict__[BATCH_ATTR] = batch
    return batch, batch is not None


async def acheck_together(throttles: Sequence[RateLimitThrottle], request: Any, view: Any) -> None:
    """Check ``throttles`` (made by the caller, who then awaits each one's
    ``aallow_request``) in one batch, as a view's; ``athrottle`` calls it."""
    found = [throttle for throttle in throttles if standard(type(throttle))]
    if len(found) > 1:
        batch = Batch(type(found[0]), _entries(found, request, view))
        request.__dict__[BATCH_ATTR] = batch
        await _acheck(batch)


def _new_batch(throttle: RateLimitThrottle, request: Any, view: Any) -> Batch | None:
    """The batch of ``view``'s throttles when ``throttle`` is the first of two or more."""
    klass = type(throttle)
    if not standard(klass):
        return None
    throttles = _throttles(view)
    if throttles is None or type(throttles[0]) is not klass:
        return None
    return Batch(klass, _entries(throttles, request, view))


def _entries(throttles: list[RateLimitThrottle], request: Any, view: Any) -> list[Entry]:
    readings: dict[int, Any] = {}
    return [
        Entry(throttle, throttle._prepare_check(request, view), readings) for throttle in throttles
    ]


Group: TypeAlias = "tuple[Store, int | None, list[Entry], list[tuple[str, Plan]], set[str]]"


def _groups(batch: Batch) -> list[Group]:
    """The entries that have a check to make, per store and clock, in order, with the
    ``(tag, plan)`` parts the store checks (usually one group: one store, one clock).

    A part whose store keys are already in a group (one class listed twice, two throttles
    counting the same client under one policy) goes to a later group: checked in one step,
    both would read the same state and the request would be counted once; checked after,
    the second sees the first's count, as when each throttle checks by itself."""
    groups: list[Group] = []
    for entry in batch.entries:
        prepared = entry.prepared
        if prepared is None:
            continue
        plan, key, store = prepared
        now = entry.now
        for group in groups:
            if (
                group[0] is store
                and group[1] == now
                # Keys of different policies (the suffixes: algorithm, limit, period) never
                # meet: the keys themselves are compared only where a policy is shared.
                and (group[4].isdisjoint(plan.suffixes) or not _shares_keys(group, key, plan))
            ):
                break
        else:
            group = (store, now, [], [], set())
            groups.append(group)
        group[2].append(entry)
        group[3].append((key, plan))
        group[4].update(plan.suffixes)
    return groups


def _shares_keys(group: Group, tag: str, plan: Plan) -> bool:
    """Whether ``plan``'s keys for ``tag`` are among the group's."""
    keys = set(plan.keys(tag))
    return any(not keys.isdisjoint(other.keys(other_tag)) for other_tag, other in group[3])


def _check(batch: Batch) -> None:
    for store, now, entries, parts, _ in _groups(batch):
        started = signals.listening()
        results: list[Outcome] | None
        try:
            results = store.check_many(parts, now) if len(parts) > 1 else None  # type: ignore[assignment]
        except StoreUnavailable as exc:
            results = [exc] * len(parts)
        if results is None:
            results = []
            for tag, plan in parts:
                try:
                    results.append(store.check(tag, plan, now))
                except StoreUnavailable as exc:
                    results.append(exc)
        _settle(entries, results, started)


async def _acheck(batch: Batch) -> None:
    for store, now, entries, parts, _ in _groups(batch):
        started = signals.listening()
        results: list[Outcome] | None
        try:
            results = await store.acheck_many(parts, now) if len(parts) > 1 else None  # type: ignore[assignment]
        except StoreUnavailable as exc:
            results = [exc] * len(parts)
        if results is None:
            results = []
            for tag, plan in parts:
                try:
                    results.append(await store.acheck(tag, plan, now))
                except StoreUnavailable as exc:
                    results.append(exc)
        _settle(entries, results, started)


def _settle(entries: list[Entry], results: Sequence[Outcome], started: float) -> None:
    if started:
        latency = time.perf_counter() - started
        for entry, outcome in zip(entries, results, strict=True):
            entry.outcome = outcome
            entry.latency = latency
    else:
        for entry, outcome in zip(entries, results, strict=True):
            entry.outcome = outcome

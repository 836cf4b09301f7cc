"""The store interface, and what every store shares around one check.

Plans and decisions live in ``apierrors.ratelimit.plans`` (re-exported here, where they
were first defined).

``Store`` is the extension point: a store is one subclass that names the cache backends
(``backends``) or the URI schemes (``schemes``, made by ``from_uri``) it serves, declares
its own error types and implements ``run`` (and, with an async driver, ``arun``). The
base class owns what every store needs around the call, in ``check`` and its async twin
``acheck``: the circuit breaker and turning the store's errors into ``StoreUnavailable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from asgiref.sync import sync_to_async

from apierrors.ratelimit import config
from apierrors.ratelimit.algorithms import HEAD, WAIT, WIDTH
from apierrors.ratelimit.breaker import CircuitBreaker, OutageLog
from apierrors.ratelimit.config import current
from apierrors.ratelimit.denied import DeniedMemory
from apierrors.ratelimit.plans import (
    Decision,
    Plan,
    Policy,
    PolicyOutcome,
    Result,
    combined_plan,
    plan_for,
)
from apierrors.ratelimit.rates import MICROS

__all__ = [
    "CLOCK_SLACK_MS",
    "Decision",
    "Plan",
    "Policy",
    "PolicyOutcome",
    "Result",
    "Store",
    "StoreUnavailable",
    "combined_plan",
    "micros",
    "plan_for",
]

# Keys expire by the store's clock; state written at a caller's time (an injected clock)
# lives this much longer, since the two clocks need not agree. The state says which window
# or arrival time it belongs to, so a key that outlives its use is harmless.
CLOCK_SLACK_MS = 60_000


class StoreUnavailable(Exception):
    """The store could not be reached (or its circuit breaker is open)."""


class Store:
    """Where rate-limit state lives, for one cache alias or URI. Subclass it, override ``run``.

    ``check`` runs ``plan`` for the client ``tag`` at ``now`` (microseconds; ``None`` means
    the store's own clock) in one atomic step and returns the algorithm's result. It calls
    ``run`` unless the circuit breaker is open, and turns the errors named in ``errors``
    into ``StoreUnavailable``, counting them for the breaker.

    A store serves the caches whose backend class (or a base class of it) is named in
    ``backends`` (made by ``Store(alias)``), and the URIs whose scheme is named in
    ``schemes`` (made by ``from_uri``); ``apierrors.ratelimit.register_store`` makes it
    known. Its module
    imports the store's driver only when a store is made (in ``__init__``), so that
    finding the store of a cache never imports the driver of another.
    """

    shared: ClassVar[bool] = False
    """Whether the state is shared by every process that uses the store (system checks)."""
    atomic: ClassVar[bool] = False
    """Whether one check is one atomic step across processes, so limits are exact."""
    backends: ClassVar[tuple[str, ...]] = ()
    """Dotted paths of the cache backend classes this store serves (subclasses included)."""
    schemes: ClassVar[tuple[str, ...]] = ()
    """URI schemes this store serves (``APIERRORS["THROTTLE_STORE"]``)."""

    errors: tuple[type[BaseException], ...] = ()
    """The store's own errors: each means the state cannot be reached now."""
    batches: ClassVar[bool] = False
    """Whether ``run_keys`` checks the keys of several clients in one step (``check_many``:
    a view's throttles in one round trip)."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        """The cache alias, or the URI without its password (for messages)."""
        self.outage_log = OutageLog()
        self.breaker = CircuitBreaker()
        # Refusals of a shared store, answered without a round trip until they expire.
        self.denied = DeniedMemory() if self.shared else None

    @classmethod
    def from_uri(cls, uri: str) -> Store:
        """The store for ``uri``, whose scheme is one of ``schemes``.

        Connect lazily: what fails here is a configuration error (a URI that does not
        parse, a driver that does not import), retried later with a backoff.
        """
        raise NotImplementedError(f"{cls.__qualname__} is not made from a URI")

    def check(self, tag: str, plan: Plan, now: int | None = None) -> Result:
        """``run``, behind the circuit breaker; raises ``StoreUnavailable``.

        A shared store answers a refusal it remembers from memory (``REMEMBER_DENIALS``,
        see ``apierrors.ratelimit.denied``) without calling ``run``.
        """
        remembered, denied, sent = self._recall(tag, plan, now)
        if remembered is not None:
            return remembered
        if self.breaker.open_until is not None:
            self._guard()
        try:
            result = self.run(tag, plan, now)
        except self.errors as exc:
            raise self._failed(exc) from exc
        return self._done(tag, plan, now, result, denied, sent)

    def run(self, tag: str, plan: Plan, now: int | None) -> Result:
        """Run ``plan`` for ``tag`` in one atomic step and return the algorithm's result."""
        raise NotImplementedError

    def run_keys(self, keys: list[str], plan: Plan, now: int | None) -> Result:
        """Run ``plan`` on ``keys`` (one per policy) in one atomic step (``batches``)."""
        raise NotImplementedError

    async def arun_keys(self, keys: list[str], plan: Plan, now: int | None) -> Result:
        """``run_keys`` for async code."""
        raise NotImplementedError

    def together(self, keys: list[str]) -> bool:
        """Whether one step can check ``keys`` (on a store of several servers: whether
        they are on one)."""
        return self.batches

    def check_many(
        self, parts: Sequence[tuple[str, Plan]], now: int | None = None
    ) -> list[Result | None] | None:
        """Check several throttles' plans (``(tag, plan)`` each, of any algorithms) in one
        step, all or none: a request any part refuses consumes nothing from the others.

        Returns each part's result, or ``None`` for a part not asked
        because another part's remembered refusal already refuses the request; ``None``
        in all when the store cannot check these keys together (``together``), for the
        caller to check the parts one by one. Raises ``StoreUnavailable`` as ``check``.
        """
        batch = self._batch(parts, now)
        if batch is None or not isinstance(batch, tuple):
            return batch
        keys, plan, denied, sent = batch
        self._guard()
        try:
            result = self.run_keys(keys, plan, now)
        except self.errors as exc:
            raise self._failed(exc) from exc
        return self._done_many(parts, now, result, denied, sent)

    async def acheck_many(
        self, parts: Sequence[tuple[str, Plan]], now: int | None = None
    ) -> list[Result | None] | None:
        """``check_many`` for async code, on ``arun_keys``; a store without one (a store of
        your own with only ``run_keys``) has its ``check_many`` run in a worker thread, as
        ``acheck`` runs its ``check``."""
        if type(self).arun_keys is Store.arun_keys:
            return await sync_to_async(self.check_many, thread_sensitive=False)(parts, now)
        batch = self._batch(parts, now)
        if batch is None or not isinstance(batch, tuple):
            return batch
        keys, plan, denied, sent = batch
        self._guard()
        try:
            result = await self.arun_keys(keys, plan, now)
        except self.errors as exc:
            raise self._failed(exc) from exc
        return self._done_many(parts, now, result, denied, sent)

    def _batch(
        self, parts: Sequence[tuple[str, Plan]], now: int | None
    ) -> tuple[list[str], Plan, DeniedMemory | None, int] | list[Result | None] | None:
        """What ``check_many`` sends (keys, combined plan, memory, when), or its answer
        without a round trip (remembered refusals), or ``None`` (cannot batch)."""
        if not _batching(type(self)) or "run" in self.__dict__ or "check" in self.__dict__:
            return None
        keys: list[str] = []
        for tag, plan in parts:
            keys += plan.keys(tag)
        if not self.together(keys):
            return None
        denied = self.denied if (config._current or current()).remember_denials else None
        sent = 0
        if denied is not None:
            remembered = [denied.lookup(plan, tag, now) for tag, plan in parts]
            if remembered.count(None) != len(remembered):
                return remembered
            sent = denied.clock()
        try:
            plan = combined_plan(tuple([plan for _, plan in parts]))
        except ValueError:  # algorithms that cannot share a script: one by one
            return None
        return keys, plan, denied, sent

    def _done_many(
        self,
        parts: Sequence[tuple[str, Plan]],
        now: int | None,
        result: Result,
        denied: DeniedMemory | None,
        sent: int,
    ) -> list[Result | None]:
        if self.breaker.failures:
            self.breaker.success()
        # Each part's own result: its policies' numbers, and its own verdict. A part whose
        # policies all allow, in a request another part refused, reads allowed, with its
        # `remaining` as before the request (nothing was consumed).
        results: list[Result | None] = []
        start = HEAD
        for tag, plan in parts:
            end = start + WIDTH * len(plan.policies)
            numbers = result[start:end]
            start = end
            if result[0]:
                results.append([1, result[1], *numbers])
            elif any(numbers[WAIT::WIDTH]):
                own = [0, result[1], *numbers]
                results.append(own)
                if denied is not None:
                    denied.remember(plan, tag, now, own, sent)
            else:
                results.append([1, result[1], *numbers])
        return results

    async def acheck(self, tag: str, plan: Plan, now: int | None = None) -> Result:
        """``check`` for async code: the event loop is never blocked on the store.

        A store with a native ``arun`` (the Redis stores, on redis.asyncio) is awaited
        behind the same remembered refusals, circuit breaker and error wrapping as
        ``check``; any other store (one that implements only ``run``, or overrides
        ``check``) has its ``check`` run in a worker thread, so every store serves async
        views unchanged.
        """
        if type(self).arun is Store.arun:
            return await sync_to_async(self.check, thread_sensitive=False)(tag, plan, now)
        remembered, denied, sent = self._recall(tag, plan, now)
        if remembered is not None:
            return remembered
        self._guard()
        try:
            result = await self.arun(tag, plan, now)
        except self.errors as exc:
            raise self._failed(exc) from exc
        return self._done(tag, plan, now, result, denied, sent)

    # The steps ``check`` and ``acheck`` share.

    def _recall(
        self, tag: str, plan: Plan, now: int | None
    ) -> tuple[Result | None, DeniedMemory | None, int]:
        """A remembered refusal, the memory to remember a new one in, and when we asked."""
        denied = self.denied if (config._current or current()).remember_denials else None
        if denied is None:
            return None, None, 0
        remembered = denied.lookup(plan, tag, now)
        return remembered, denied, 0 if remembered is not None else denied.clock()

    def _guard(self) -> None:
        breaker = self.breaker
        if breaker.open_until is not None and not breaker.allow():
            raise StoreUnavailable(f"circuit breaker open for {self.alias!r}")

    def _failed(self, exc: BaseException) -> StoreUnavailable:
        self.breaker.failure()
        return StoreUnavailable(f"{type(exc).__name__}: {exc}")

    def _done(
        self,
        tag: str,
        plan: Plan,
        now: int | None,
        result: Result,
        denied: DeniedMemory | None,
        sent: int,
    ) -> Result:
        if self.breaker.failures:
            self.breaker.success()
        if denied is not None and not result[0]:
            denied.remember(plan, tag, now, result, sent)
        return result

    async def arun(self, tag: str, plan: Plan, now: int | None) -> Result:
        """``run`` for async code; override it where the store has an async driver."""
        raise NotImplementedError


_batching_classes: dict[type, bool] = {}


def _batching(klass: type[Store]) -> bool:
    """Whether ``klass`` batches: ``batches`` is set, and no class below the one that
    implements ``run_keys`` changes how one check runs (``run``, ``check`` or their async
    twins), which ``run_keys`` would bypass."""
    known = _batching_classes.get(klass)
    if known is None:
        mro = klass.__mro__

        def owner(name: str) -> int:
            return next(at for at, base in enumerate(mro) if name in base.__dict__)

        below = owner("run_keys")
        known = _batching_classes[klass] = klass.batches and all(
            owner(name) >= below for name in ("run", "arun", "check", "acheck")
        )
    return known


def micros(seconds: float) -> int:
    """Seconds (as ``time.time()`` gives them) to whole microseconds."""
    return round(seconds * MICROS)

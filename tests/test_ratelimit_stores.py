"""Stores as an extension point: the registry, the base class's breaker, reading a result."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache.backends.locmem import LocMemCache

from apierrors import ratelimit
from apierrors.ratelimit import (
    Decision,
    Plan,
    Result,
    Store,
    StoreUnavailable,
    get_store,
    plan_for,
    register_store,
    store_class_for,
)
from apierrors.ratelimit.breaker import CircuitBreaker
from apierrors.ratelimit.memory import MemoryStore
from apierrors.ratelimit.rates import MICROS
from apierrors.ratelimit.redis import RedisStore
from tests.throttle_app.helpers import next_alias, redis_cache, set_rates, use_cache

pytest_plugins = ["tests.throttle_app.fixtures"]

T0 = 1_800_000_000 * MICROS


class CountingCache(LocMemCache):
    """A cache backend no built-in store names, for the test store below."""


class CountingStore(Store):
    """A third-party store: the in-process algorithms, plus a count of its calls."""

    backends = (f"{__name__}.CountingCache",)
    shared = True

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self.errors = (ConnectionRefusedError,)
        self.memory = MemoryStore(alias)
        self.calls = 0
        self.fail_with: BaseException | None = None

    def run(self, tag: str, plan: Plan, now: int | None) -> Result:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        return self.memory.run(tag, plan, now)


@pytest.fixture
def registry() -> Iterator[list[str | type[Store]]]:
    """The store registry, restored after the test."""
    saved = list(ratelimit.STORE_CLASSES)
    yield ratelimit.STORE_CLASSES
    ratelimit.STORE_CLASSES[:] = saved
    ratelimit.reset_stores()


@pytest.fixture
def counting_cache(settings) -> str:
    alias = f"counting{next_alias()}"
    return use_cache(settings, {"BACKEND": f"{__name__}.CountingCache", "LOCATION": alias})


def plan(rates: list[str], algorithm: str = "fixed_window") -> Plan:
    return plan_for(tuple(rates), algorithm, None, f"stores{next_alias()}")


# The registry -------------------------------------------------------------------------------


def test_built_in_stores_serve_their_backends(settings, memory_store):
    redis_alias = use_cache(settings, redis_cache("redis://127.0.0.1:1/0"))
    assert store_class_for(redis_alias) is RedisStore
    assert store_class_for(memory_store) is MemoryStore
    assert (RedisStore.shared, RedisStore.atomic) == (True, True)
    assert (MemoryStore.shared, MemoryStore.atomic) == (False, False)


def test_an_unregistered_backend_falls_back_to_the_memory_store(registry, counting_cache):
    assert store_class_for(counting_cache) is MemoryStore


@pytest.mark.parametrize("entry", [CountingStore, f"{__name__}.CountingStore"])
def test_a_registered_store_serves_its_backend(registry, counting_cache, memory_store, entry):
    before = get_store(counting_cache)
    register_store(entry)
    assert store_class_for(counting_cache) is CountingStore
    assert store_class_for(memory_store) is MemoryStore  # other backends are unaffected
    store = get_store(counting_cache)
    assert store is not before  # made again for the new registry
    assert store.check("c", plan(["2/s"]), T0)[:3] == [1, T0, 1]
    assert isinstance(store, CountingStore)
    assert store.calls == 1


@pytest.mark.django_db
def test_a_registered_store_serves_the_throttles(
    registry, settings, counting_cache, api_client, clock
):
    register_store(CountingStore)
    set_rates(settings, user="2/minute")
    statuses = [api_client.get("/t/throttle/user/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    store = get_store(counting_cache)
    assert isinstance(store, CountingStore)
    assert store.calls == 3


def test_only_store_classes_can_be_registered(registry):
    with pytest.raises(TypeError, match="not a subclass of Store"):
        register_store(LocMemCache)  # type: ignore[arg-type]
    assert LocMemCache not in registry


def test_finding_the_store_of_another_cache_imports_no_redis_client():
    script = textwrap.dedent(
        """
        import sys
        import django
        from django.conf import settings

        settings.configure(
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                            "rest_framework", "apierrors"],
            CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        )
        django.setup()
        import apierrors.middleware
        import apierrors.throttling
        from apierrors.ratelimit import get_store, plan_for, store_classes

        assert len(store_classes()) == 6
        store = get_store("default")
        assert store.check("c", plan_for(("1/s",), "gcra", None, "p"))[0] == 1
        drivers = sorted(m for m in ("redis", "django_redis") if m in sys.modules)
        print(type(store).__name__, drivers)
        """
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["MemoryStore", "[]"]


# The base class: breaker and errors ---------------------------------------------------------


def is_open(breaker: CircuitBreaker) -> bool:
    """``breaker.is_open`` read through a call, which mypy does not narrow between reads."""
    return breaker.is_open


def test_declared_errors_become_store_unavailable_and_open_the_breaker(
    registry, settings, counting_cache
):
    settings.APIERRORS = {**settings.APIERRORS, "BREAKER_FAILURES": 2, "BREAKER_COOLDOWN": 30}
    register_store(CountingStore)
    store = get_store(counting_cache)
    assert isinstance(store, CountingStore)
    store.fail_with = ConnectionRefusedError("down")
    checked = plan(["5/s"])
    for _ in range(2):
        with pytest.raises(StoreUnavailable, match="ConnectionRefusedError: down") as raised:
            store.check("c", checked, T0)
        assert isinstance(raised.value.__cause__, ConnectionRefusedError)
    assert store.breaker.is_open
    with pytest.raises(StoreUnavailable, match="circuit breaker open"):
        store.check("c", checked, T0)
    assert store.calls == 2  # the open breaker did not call the store

    store.fail_with = None
    store.breaker.open_until = 0.0  # the cooldown is over: one trial, which succeeds
    assert store.check("c", checked, T0)[0] == 1
    assert not is_open(store.breaker)
    assert store.breaker.failures == 0


def test_other_errors_propagate_and_leave_the_breaker_alone(registry, counting_cache):
    register_store(CountingStore)
    store = get_store(counting_cache)
    assert isinstance(store, CountingStore)
    store.fail_with = KeyError("a bug")
    with pytest.raises(KeyError):
        store.check("c", plan(["5/s"]), T0)
    assert store.breaker.failures == 0


def test_the_memory_store_has_the_breaker_and_no_errors(memory_store):
    store = get_store(memory_store)
    assert store.errors == ()
    assert not store.breaker.is_open
    assert store.check("c", plan(["1/s"]), T0)[0] == 1


# Reading a result ---------------------------------------------------------------------------


def test_decision_reads_each_policy():
    decision = Decision([1, T0, 5, T0 + 10, 0, 7, T0 + 20, 0])
    assert decision.allowed is True
    assert decision.now == T0
    assert decision.count == 2
    assert decision.policy(0) == (5, T0 + 10, 0)
    assert decision.policy(1).reset == T0 + 20
    with pytest.raises(IndexError):
        decision.policy(2)
    assert (decision.index, decision.remaining, decision.reset, decision.wait) == (
        0,
        5,
        T0 + 10,
        0,
    )


def test_a_denied_decision_names_the_wait():
    decision = Decision([0, T0, 3, T0 + 10, 0, 0, T0 + 60, 45])
    assert decision.allowed is False
    assert (decision.index, decision.remaining, decision.reset, decision.wait) == (
        1,
        0,
        T0 + 60,
        45,
    )


@pytest.mark.parametrize(
    ("result", "index"),
    [
        ([1, T0, 5, T0 + 10, 0], 0),
        # allowed: fewest remaining
        ([1, T0, 5, T0 + 10, 0, 3, T0 + 5, 0, 4, T0 + 1, 0], 1),
        # allowed, a tie on remaining: the later reset
        ([1, T0, 3, T0 + 10, 0, 3, T0 + 30, 0, 3, T0 + 20, 0], 1),
        # allowed, a tie on both: the first
        ([1, T0, 3, T0 + 10, 0, 3, T0 + 10, 0], 0),
        # denied: the longest wait, among the denying policies
        ([0, T0, 2, T0 + 10, 0, 0, T0 + 50, 50, 0, T0 + 90, 90], 2),
        ([0, T0, 0, T0 + 90, 90, 4, T0 + 10, 0, 0, T0 + 50, 50], 0),
        # denied, a tie on the wait: the first
        ([0, T0, 0, T0 + 90, 40, 0, T0 + 50, 40], 0),
    ],
)
def test_decision_picks_the_decisive_policy(result, index):
    assert Decision(result).index == index

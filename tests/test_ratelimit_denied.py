"""Refusals answered from memory (``REMEMBER_DENIALS``): no round trip, same answers, exact."""

from __future__ import annotations

import itertools
import sys
import threading
import time

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apierrors.ratelimit import get_store, plan_for
from apierrors.ratelimit.algorithms import ALGORITHMS
from apierrors.ratelimit.denied import DeniedMemory
from apierrors.ratelimit.headers import LIMIT, RATE_LIMIT_HEADERS_ATTR, REMAINING, RESET
from apierrors.ratelimit.rates import MICROS
from apierrors.throttling import UserRateLimitThrottle
from tests.fixtures.processes import race
from tests.throttle_app.helpers import evalsha_calls

pytest_plugins = ["tests.throttle_app.fixtures"]

T0 = 1_800_000_000 * MICROS
_prefixes = itertools.count()


def fresh_plan(rates, algorithm="fixed_window"):
    return plan_for(tuple(rates), algorithm, None, f"d{next(_prefixes)}")


# The memory alone ----------------------------------------------------------------------------


def test_a_refusal_counts_down_and_expires_at_its_wait():
    clock = [1_000]
    memory = DeniedMemory(clock=lambda: clock[0])
    plan = fresh_plan(["1/m"])
    refused = [0, T0, 0, T0 + 40 * MICROS, 40 * MICROS]
    memory.remember(plan, "c", None, refused, sent=1_000)
    assert memory.lookup(plan, "c", None) == refused
    assert memory.lookup(plan, "other", None) is None
    clock[0] += 15 * MICROS
    assert memory.lookup(plan, "c", None) == [0, T0 + 15 * MICROS, 0, T0 + 40 * MICROS, 25 * MICROS]
    clock[0] += 25 * MICROS - 1
    looked = memory.lookup(plan, "c", None)
    assert looked is not None
    assert looked[4] == 1
    clock[0] += 1
    assert memory.lookup(plan, "c", None) is None  # the store is asked again
    assert memory.entries == {}


def test_a_caller_clock_is_measured_on_that_clock():
    memory = DeniedMemory(clock=lambda: 0)
    plan = fresh_plan(["1/m"])
    memory.remember(plan, "c", T0, [0, T0, 0, T0 + 10, 10], sent=0)
    assert memory.lookup(plan, "c", T0 + 4) == [0, T0 + 4, 0, T0 + 10, 6]
    assert memory.lookup(plan, "c", None) is None  # another clock: not comparable
    assert memory.lookup(plan, "c", T0 - 1) is None  # a clock that went back: ask the store
    assert memory.lookup(plan, "c", T0 + 10) is None


def test_several_policies_keep_the_decisive_one():
    memory = DeniedMemory(clock=lambda: 0)
    plan = fresh_plan(["1/s", "5/m"])
    refused = [0, T0, 0, T0 + 100, 100, 3, T0 + 900, 0, 0, T0 + 50, 50]
    memory.remember(plan, "c", T0, refused, sent=0)
    got = memory.lookup(plan, "c", T0 + 60)
    assert got is not None
    assert got[:5] == [0, T0 + 60, 0, T0 + 100, 40]
    assert got[5:8] == [3, T0 + 900, 0]  # an allowing policy stays allowing
    assert got[10] == 1  # a denying one whose wait passed still denies, by the least
    assert memory.lookup(plan, "c", T0 + 100) is None


def test_the_memory_is_bounded():
    memory = DeniedMemory(size=3, clock=lambda: 0)
    plan = fresh_plan(["1/m"])
    for tag in "abcd":
        memory.remember(plan, tag, T0, [0, T0, 0, T0 + 10, 10], sent=0)
    assert len(memory.entries) == 3
    assert memory.lookup(plan, "a", T0) is None
    assert memory.lookup(plan, "d", T0) is not None


def test_a_full_memory_is_safe_to_share_between_threads():
    # Threads of one process remember refusals into a full memory (evicting the oldest)
    # while others find entries expired (removing them): no check may raise for it.
    now = [0]
    memory = DeniedMemory(size=2, clock=lambda: now[0])
    plan = fresh_plan(["1/m"])
    refused = [0, T0, 0, T0 + 60 * MICROS, 60 * MICROS]
    errors: list[BaseException] = []
    deadline = time.monotonic() + 0.5

    def remember() -> None:
        try:
            for n in itertools.count():
                if time.monotonic() > deadline:
                    return
                memory.remember(plan, f"c{n % 4}", None, refused, 0)
        except Exception as exc:
            errors.append(exc)

    def expire() -> None:
        now[0] = 61 * MICROS  # every entry's wait has passed
        try:
            while time.monotonic() <= deadline:
                for n in range(4):
                    memory.lookup(plan, f"c{n}", None)
        except Exception as exc:
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=remember) for _ in range(2)]
        threads.append(threading.Thread(target=expire))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


# On Redis --------------------------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_a_flood_from_a_refused_client_makes_one_call(redis_store, redis_url, algorithm):
    store = get_store(redis_store)
    # A day's quota with the server's clock: the refusal lasts hours (GCRA) or until
    # midnight UTC (fixed window), longer than the flood.
    plan = fresh_plan(["3/day"], algorithm)
    assert [store.check("c", plan)[0] for _ in range(3)] == [1, 1, 1]
    before = evalsha_calls(redis_url)
    results = [store.check("c", plan) for _ in range(10_000)]
    assert evalsha_calls(redis_url) - before == 1
    assert all(result[0] == 0 and result[2] == 0 for result in results)
    assert len({result[3] for result in results}) == 1  # the same reset
    waits = [result[4] for result in results]
    assert waits == sorted(waits, reverse=True)  # counting down
    # Another client is not affected.
    assert store.check("d", plan)[0] == 1


@pytest.mark.redis
def test_turned_off_every_refused_check_asks_the_store(settings, redis_store, redis_url):
    settings.APIERRORS = {**settings.APIERRORS, "REMEMBER_DENIALS": False}
    store = get_store(redis_store)
    plan = fresh_plan(["1/day"], "gcra")
    store.check("c", plan)
    before = evalsha_calls(redis_url)
    assert [store.check("c", plan)[0] for _ in range(5)] == [0] * 5
    assert evalsha_calls(redis_url) - before == 5


@pytest.mark.redis
def test_the_memory_answers_with_the_stores_headers(redis_store, redis_url):
    clock = [T0 / MICROS]

    class Throttle(UserRateLimitThrottle):
        rate = "2/minute"
        timer = staticmethod(lambda: clock[0])

    request = Request(APIRequestFactory().get("/", REMOTE_ADDR="192.0.2.9"))
    # DRF's private cache of the user, as a view without authentication leaves it.
    request._user = None  # type: ignore[attr-defined]

    def attempt() -> tuple[bool, dict[str, str], float | None]:
        django_request = request._request
        django_request.__dict__.pop(RATE_LIMIT_HEADERS_ATTR, None)
        django_request.__dict__.pop("_apierrors_rate_limit_rank", None)
        throttle = Throttle()
        allowed = throttle.allow_request(request, APIView())
        return allowed, getattr(django_request, RATE_LIMIT_HEADERS_ATTR), throttle.wait()

    assert attempt()[0]
    assert attempt()[0]
    allowed, first, wait = attempt()  # refused by the store
    before = evalsha_calls(redis_url)
    clock[0] += 20.5
    again, remembered, wait_later = attempt()  # refused from memory
    assert evalsha_calls(redis_url) == before
    assert not allowed
    assert not again
    assert first == remembered == {LIMIT: "2", REMAINING: "0", RESET: first[RESET]}
    assert wait == 60.0
    assert wait_later == 39.5
    clock[0] += 39.5
    assert attempt()[0]  # the next window, from the store


def _attempts(alias, plan, count, now, barrier, results):
    store = get_store(alias)
    barrier.wait(timeout=60)
    results.put(sum(store.check("shared", plan, now)[0] for _ in range(count)))


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@pytest.mark.parametrize("clock", ["caller", "server"])
def test_many_processes_admit_exactly_the_limit_with_the_memory_on(redis_store, algorithm, clock):
    """16 processes x 100 attempts at 100/minute admit exactly 100, refusals remembered."""
    # The server's clock moves: GCRA refills one request per 0.6 s and a minute's window
    # may end during the run, so that case runs at 100/day, still 1,600 attempts for 100.
    rate = "100/minute" if clock == "caller" else "100/day"
    plan = fresh_plan([rate], algorithm)
    now = T0 if clock == "caller" else None
    assert sum(race(_attempts, (redis_store, plan, 100, now), 16)) == 100

"""The algorithms: Python decisions, and the Lua scripts agreeing with them on Redis."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.http import HttpRequest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apierrors.ratelimit import get_store, plan_for
from apierrors.ratelimit.algorithms import ALGORITHMS, FixedWindow
from apierrors.ratelimit.headers import RATE_LIMIT_HEADERS_ATTR
from apierrors.ratelimit.rates import MICROS, parse_rate
from apierrors.throttling import RateLimitThrottle

pytest_plugins = ["tests.throttle_app.fixtures"]

T0 = 1_800_000_000 * MICROS  # a whole day since the epoch: every window starts here
_prefixes = itertools.count()


def fresh_plan(rates, algorithm="fixed_window", burst=None):
    return plan_for(tuple(rates), algorithm, burst, f"t{next(_prefixes)}")


def run(store, plan, times, tag="client"):
    return [list(store.check(tag, plan, now)) for now in times]


# Fixed window -------------------------------------------------------------------------------


def test_fixed_window_counts_within_the_window(memory_store):
    store = get_store(memory_store)
    plan = fresh_plan(["3/s"])
    results = run(store, plan, [T0, T0 + 1, T0 + 999_999, T0 + 999_999])
    end = T0 + MICROS
    assert results == [
        [1, T0, 2, end, 0],
        [1, T0 + 1, 1, end, 0],
        [1, T0 + 999_999, 0, end, 0],
        [0, T0 + 999_999, 0, end, 1],
    ]
    assert run(store, plan, [T0 + MICROS]) == [[1, T0 + MICROS, 2, end + MICROS, 0]]


def test_fixed_window_skipping_windows_starts_over(memory_store):
    store = get_store(memory_store)
    plan = fresh_plan(["1/m"])
    assert run(store, plan, [T0])[0][0] == 1
    assert run(store, plan, [T0 + 10 * 60 * MICROS + 5])[0][0] == 1


def test_fixed_window_state_is_one_integer():
    algorithm = FixedWindow()
    result, writes = algorithm.decide([None], T0 + 5, [(10, 60 * MICROS)])
    code = (T0 // (60 * MICROS)) % algorithm.CYCLE + 1
    assert writes == [(str(code * algorithm.SPAN + 1), 60_000)]
    # A state from another window does not count.
    stale = str((code - 1) * algorithm.SPAN + 9)
    result, writes = algorithm.decide([stale], T0 + 5, [(10, 60 * MICROS)])
    assert result[2] == 9
    assert writes is not None
    assert writes[0][0] == str(code * algorithm.SPAN + 1)


def test_a_denial_writes_nothing():
    for algorithm in ALGORITHMS.values():
        plan = fresh_plan(["1/s", "10/m"], algorithm.name)
        result, writes = algorithm.decide([None, None], T0, plan.params)
        assert result[0] == 1
        assert writes is not None
        states = [state for state, _ttl in writes]
        result, writes = algorithm.decide(states, T0 + 1, plan.params)
        assert result[0] == 0
        assert writes is None
        # The minute policy still has 9 left: the denied request took none of them.
        assert result[5] == 9


# GCRA ----------------------------------------------------------------------------------------


def test_gcra_spaces_requests_after_the_burst(memory_store):
    store = get_store(memory_store)
    plan = fresh_plan(["2/s"], "gcra")
    half = MICROS // 2
    results = run(store, plan, [T0, T0, T0, T0 + half - 1, T0 + half])
    assert [r[0] for r in results] == [1, 1, 0, 0, 1]
    assert results[0] == [1, T0, 1, T0 + half, 0]
    assert results[1] == [1, T0, 0, T0 + 2 * half, 0]
    assert results[2] == [0, T0, 0, T0 + 2 * half, half]
    assert results[3] == [0, T0 + half - 1, 0, T0 + 2 * half, 1]
    assert results[4] == [1, T0 + half, 0, T0 + 3 * half, 0]


def test_gcra_regains_the_whole_burst_after_the_period(memory_store):
    store = get_store(memory_store)
    plan = fresh_plan(["5/m"], "gcra")
    assert all(r[0] for r in run(store, plan, [T0] * 5))
    assert run(store, plan, [T0 + 60 * MICROS])[0][2] == 4


def test_gcra_burst(memory_store):
    store = get_store(memory_store)
    plan = fresh_plan(["10/s"], "gcra", burst=3)
    assert plan.policies[0].limit == 3
    assert [r[0] for r in run(store, plan, [T0] * 4)] == [1, 1, 1, 0]


def test_gcra_limit_never_fits_in_less_than_the_period():
    interval, tolerance = ALGORITHMS["gcra"].params(parse_rate("3/s"), None)
    assert interval * 3 >= MICROS
    assert tolerance == interval * 3


# Lua and Python agree ---------------------------------------------------------------------

RATES = ["1/s", "3/s", "5/10s", "2/m", "7/m", "4/h", "3/5m"]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(0, 3)),
        st.tuples(st.just("advance"), st.integers(0, 2 * MICROS)),
        st.tuples(st.just("advance"), st.integers(0, 700 * MICROS)),
        # To a window boundary of one of the rates, or a microsecond either side of it.
        st.tuples(st.just("edge"), st.integers(0, 1), st.integers(-1, 1)),
    ),
    min_size=1,
    max_size=40,
)


def headers_of(plan, result):
    """The headers a throttle records for ``result``."""
    throttle = RateLimitThrottle()
    throttle.scope = "s"
    request = HttpRequest()
    throttle.record_headers(request, plan, result)
    return getattr(request, RATE_LIMIT_HEADERS_ATTR)


@pytest.mark.redis
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rates=st.lists(st.sampled_from(RATES), min_size=1, max_size=2, unique=True),
    burst=st.one_of(st.none(), st.integers(1, 4)),
    start=st.integers(0, 10**12),
    steps=steps,
    tags=st.lists(st.sampled_from(["a", "b"]), min_size=40, max_size=40),
)
def test_lua_and_python_agree(
    settings, redis_store, memory_store, algorithm, rates, burst, start, steps, tags
):
    # The two forms of the algorithm, compared raw: no refusal answered from memory (the
    # deny memory replays only the decisive policy exactly; tests/test_ratelimit_denied.py).
    settings.APIERRORS = {**settings.APIERRORS, "REMEMBER_DENIALS": False}
    redis = get_store(redis_store)
    memory = get_store(memory_store)
    plan = fresh_plan(rates, algorithm, burst if algorithm == "gcra" else None)
    now = T0 + start
    for (kind, *args), tag in zip(steps, tags, strict=False):
        if kind == "advance":
            now += args[0]
        else:
            period = plan.policies[min(args[0], len(plan.policies) - 1)].rate.period_us
            now = (now // period + 1) * period + args[1]
        expected = list(memory.check(tag, plan, now))
        got = list(redis.check(tag, plan, now))
        assert got == expected
        assert headers_of(plan, got) == headers_of(plan, expected)


@pytest.mark.redis
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_redis_reads_its_own_clock(redis_store, algorithm):
    import time

    result = get_store(redis_store).check("x", fresh_plan(["5/m"], algorithm))
    assert result[0] == 1
    assert abs(result[1] - time.time() * MICROS) < 60 * MICROS


# Threads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory_store", "redis_store"])
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_threads_of_one_process_admit_exactly_the_limit(request, kind, algorithm):
    store = get_store(request.getfixturevalue(kind))
    plan = fresh_plan(["100/m", "1000/h"], algorithm)
    barrier = threading.Barrier(8)
    admitted = []

    def attempts():
        barrier.wait(timeout=30)
        admitted.append(sum(store.check("shared", plan, T0)[0] for _ in range(50)))

    threads = [threading.Thread(target=attempts) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(admitted) == 100
    assert list(store.check("shared", plan, T0))[5] == 900  # the hour lost only the 100


def test_every_script_has_its_sections_in_place():
    from apierrors.ratelimit.algorithms import Mixed

    for source in [algorithm.source for algorithm in ALGORITHMS.values()] + [
        Mixed(list(ALGORITHMS.values())).source
    ]:
        markers = [line for line in source.splitlines() if line.strip().startswith("-- @")]
        assert markers == []  # every section marker replaced
        assert source.startswith(_clock_source())
        assert source.rstrip().endswith("return out")


def _clock_source() -> str:
    from pathlib import Path

    import apierrors.ratelimit

    return (Path(apierrors.ratelimit.__file__).parent / "clock.lua").read_text(encoding="utf-8")

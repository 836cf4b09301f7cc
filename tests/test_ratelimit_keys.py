"""What a client costs in the store: short keys, small values, expiry at the window's end."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import redis

from apierrors.ratelimit import get_store, plan_for
from apierrors.ratelimit.algorithms import ALGORITHMS
from apierrors.ratelimit.rates import MICROS

pytest_plugins = ["tests.throttle_app.fixtures"]

T0 = 1_800_000_000 * MICROS
_prefixes = itertools.count()
FIXED = ALGORITHMS["fixed_window"]


def stored_value(client: Any, key: str) -> bytes | str:
    """The value at ``key``, which must exist."""
    value: bytes | str | None = client.get(key)
    assert value is not None
    return value


def test_keys_are_short_and_name_the_policy():
    plan = plan_for(("1000/hour", "10000/day"), "fixed_window", None, "rl")
    assert plan.keys("throttle_user_42") == ["rl{~user_42}frs.2s0", "rl{~user_42}f7ps.1uo0"]
    gcra = plan_for(("1000/hour",), "gcra", 50, "rl")
    assert gcra.keys("t") == ["rl{t}g1e.2s0"]  # the burst is GCRA's limit


@pytest.mark.parametrize(
    "tags",
    [
        ("throttle_user_1", "~user_1", "=~user_1", "user_1", "throttle_", "~", "=~", ""),
        ("throttle_~", "~~", "=~~", "throttle_=", "~=", "=", "==", "=~="),
    ],
)
def test_shortened_tags_never_meet(tags):
    plan = plan_for(("5/m",), "fixed_window", None, "rl")
    keys = [plan.keys(tag)[0] for tag in tags]
    assert len(set(keys)) == len(tags)


def test_own_clock_state_is_a_small_count_with_the_windows_parity():
    period = 60 * MICROS
    now = T0 + 5
    window = now // period
    parity = window % 2
    result, writes = FIXED.decide([None], now, [(3, period)], own_clock=True)
    assert result[2] == 2
    assert writes == [(str(2 + parity), -(-(result[3] - now) // 1000))]
    result, writes = FIXED.decide([writes[0][0]], now, [(3, period)], own_clock=True)
    assert result[2] == 1
    assert writes is not None
    assert writes[0][0] == str(4 + parity)
    # The previous window's key, not yet expired: the parity tells, the count starts over.
    result, writes = FIXED.decide([writes[0][0]], now + period, [(3, period)], own_clock=True)
    assert result[2] == 2
    assert writes is not None
    assert writes[0][0] == str(2 + (1 - parity))
    # A value of the caller's-clock form starts over too.
    result, _ = FIXED.decide([str(5 * 2**32 + 3)], now, [(3, period)], own_clock=True)
    assert result[2] == 2


@pytest.mark.redis
def test_on_the_servers_clock_a_fixed_window_key_holds_a_small_int_until_the_window_ends(
    redis_store, redis_url
):
    store = get_store(redis_store)
    plan = plan_for(("5/minute",), "fixed_window", None, f"k{next(_prefixes)}")
    results = [store.check("c", plan) for _ in range(6)]
    assert [r[0] for r in results] == [1, 1, 1, 1, 1, 0]
    client = redis.Redis.from_url(redis_url)
    try:
        (key,) = plan.keys("c")
        window = results[0][1] // (60 * MICROS)
        assert int(stored_value(client, key)) == 5 * 2 + window % 2  # the refusal took nothing
        assert client.object("encoding", key) == b"int"
        assert client.pexpiretime(key) == results[0][3] // 1000  # the window's end exactly
    finally:
        client.close()


@pytest.mark.redis
@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_a_key_lives_no_longer_than_its_state_matters(redis_store, redis_url, algorithm):
    store = get_store(redis_store)
    plan = plan_for(("10/minute",), algorithm, None, f"k{next(_prefixes)}")
    result = store.check("c", plan)
    client = redis.Redis.from_url(redis_url)
    try:
        (key,) = plan.keys("c")
        assert 0 < client.pexpiretime(key) <= -(-result[3] // 1000)
    finally:
        client.close()


@pytest.mark.redis
def test_on_the_servers_clock_a_gcra_key_holds_its_tat_against_its_expiry(redis_store, redis_url):
    store = get_store(redis_store)
    plan = plan_for(("10/minute",), "gcra", None, f"k{next(_prefixes)}")
    interval = plan.params[0][0]
    first = store.check("c", plan)
    client = redis.Redis.from_url(redis_url)
    try:
        (key,) = plan.keys("c")
        stored = int(stored_value(client, key))
        assert 0 <= stored < 1000
        assert client.object("encoding", key) == b"int"
        assert client.pexpiretime(key) * 1000 - stored == first[3]  # the TAT, to the µs
    finally:
        client.close()
    # The next check reads that TAT back exactly: it moves on by one interval.
    assert store.check("c", plan)[3] == first[3] + interval

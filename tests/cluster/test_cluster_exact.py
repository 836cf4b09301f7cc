"""Exactness on a real Redis Cluster: three masters, one replica each.

16 processes check concurrently, each on its own store (its own cluster client and
connections). One client's keys live in one slot, so one ``EVALSHA`` on its master
counts them atomically: 1,600 attempts at 100/minute admit exactly 100, and clients
spread over every master each get exactly their limit.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from redis.crc import key_slot

from apierrors.ratelimit import plan_for
from apierrors.ratelimit.cluster import RedisClusterStore
from tests.cluster.servers import Cluster, key_in_slot_range, start_cluster

pytestmark = pytest.mark.slow

PROCESSES = 16
NOW = 1_800_000_000_000_000  # one instant: every attempt in one window


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(autouse=True)
def patient(settings: Any) -> None:
    """16 processes on a busy machine: a check may wait longer than the default 0.25 s
    timeout, which would be an outage, not a count. These tests are about counting."""
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_STORE_TIMEOUT": 5.0}


def attempts(uri: str, tags: list[str], times: int, algorithm: str, rate: str) -> Counter[str]:
    """In a child process: ``times`` checks of each tag; how many each tag was admitted."""
    store = RedisClusterStore.from_uri(uri)
    plan = plan_for((rate,), algorithm, None, "exact")
    admitted: Counter[str] = Counter()
    for _ in range(times):
        for tag in tags:
            if store.check(tag, plan, NOW)[0]:
                admitted[tag] += 1
    return admitted


def run_everywhere(uri: str, tags: list[str], times: int, algorithm: str, rate: str) -> Any:
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        futures = [
            pool.submit(attempts, uri, tags, times, algorithm, rate) for _ in range(PROCESSES)
        ]
        total: Counter[str] = Counter()
        for future in futures:
            total.update(future.result())
    return total


@pytest.mark.parametrize("algorithm", ["fixed_window", "gcra"])
def test_one_client_from_16_processes_is_admitted_exactly_100(
    cluster: Cluster, algorithm: str
) -> None:
    tag = f"one-client-{algorithm}"
    admitted = run_everywhere(cluster.uri, [tag], 100, algorithm, "100/minute")
    assert admitted[tag] == 100  # of 1,600 attempts


def test_clients_on_every_master_each_get_exactly_their_limit(cluster: Cluster) -> None:
    masters = cluster.masters()
    tags = [f"spread-{number}" for number in range(48)]
    owners = {cluster.owner_of(key_slot(tag.encode())) for tag in tags}
    assert owners == set(masters)  # the clients are spread over all three masters
    admitted = run_everywhere(cluster.uri, tags, 2, "fixed_window", "10/minute")
    # 16 processes x 2 attempts = 32 per client, 10 admitted each.
    assert admitted == dict.fromkeys(tags, 10)


def test_scripts_are_loaded_again_on_a_master_that_lost_them(cluster: Cluster) -> None:
    store = RedisClusterStore.from_uri(cluster.uri)
    plan = plan_for(("3/minute",), "fixed_window", None, "flush")
    tags = [f"flushed-{number}" for number in range(12)]
    assert [store.check(tag, plan, NOW)[0] for tag in tags] == [1] * 12
    for port in cluster.masters():
        cluster.client(port).script_flush()
    # NOSCRIPT on every master: each loads the script on that master and counts on.
    assert [store.check(tag, plan, NOW)[0] for tag in tags] == [1] * 12
    assert [store.check(tag, plan, NOW)[0] for tag in tags] == [1] * 12
    assert [store.check(tag, plan, NOW)[0] for tag in tags] == [0] * 12
    assert all(breaker.failures == 0 for breaker in store.breakers.values())
    assert len(store.breakers) == 3


def test_a_resharded_slot_is_followed_and_its_count_carries_on(cluster: Cluster) -> None:
    """A slot moves to another master (``ASK`` while it migrates, ``MOVED`` after): the
    store follows, and the client's count moves with its keys."""
    masters = cluster.masters()
    source, target = sorted(masters)[:2]
    tag = key_in_slot_range(*masters[source], prefix="resharded")
    slot = key_slot(tag.encode())
    store = RedisClusterStore.from_uri(cluster.uri)
    plan = plan_for(("5/minute",), "fixed_window", None, "moved")
    assert [store.check(tag, plan, NOW)[0] for _ in range(3)] == [1, 1, 1]

    old, new = cluster.client(source), cluster.client(target)
    old_id, new_id = old.execute_command("CLUSTER", "MYID"), new.execute_command("CLUSTER", "MYID")
    new.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", old_id)
    old.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", new_id)
    keys = old.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
    assert keys  # the client's key is there
    old.migrate("127.0.0.1", target, keys, 0, 5000)
    # Migrating: the old master answers ASK for the keys it no longer has.
    assert store.check(tag, plan, NOW)[0] == 1
    for port in masters:
        cluster.client(port).execute_command("CLUSTER", "SETSLOT", slot, "NODE", new_id)
    # Moved: the old master answers MOVED; the count goes on where it was.
    assert [store.check(tag, plan, NOW)[0] for _ in range(3)] == [1, 0, 0]
    assert new.exists(*keys) == len(keys)
    assert store.node_for(store.client, f"{{{tag}}}") == f"127.0.0.1:{target}"


def test_django_valkeys_cluster_cache_gets_the_cluster_store(
    cluster: Cluster, settings: Any
) -> None:
    pytest.importorskip("django_valkey.cluster_cache.cache")
    from apierrors.ratelimit import get_store

    first = cluster.nodes[0].port
    settings.CACHES = {
        **settings.CACHES,
        "valkey-cluster": {
            "BACKEND": "django_valkey.cluster_cache.cache.ClusterValkeyCache",
            "LOCATION": f"valkey://127.0.0.1:{first}",
        },
    }
    store = get_store("valkey-cluster")
    assert isinstance(store, RedisClusterStore)
    plan = plan_for(("2/minute",), "gcra", None, "valkey")
    assert [store.check("someone", plan, NOW)[0] for _ in range(3)] == [1, 1, 0]

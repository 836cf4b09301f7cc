"""The Redis Cluster store without a cluster: its URI, its keys' slots, its system check,
and the caches it serves."""

from __future__ import annotations

from typing import Any

import pytest
from redis.crc import key_slot

from apierrors import ratelimit
from apierrors.ratelimit import StoreUnavailable, checks, get_store, plan_for
from apierrors.ratelimit.cluster import (
    RedisClusterStore,
    cluster_uri_for_cache,
    parse_cluster_uri,
)
from tests.test_ratelimit_checks import use_throttles


def slots(keys: list[str]) -> set[int]:
    return {key_slot(key.encode()) for key in keys}


@pytest.mark.parametrize("tag", ["user:1", "", "{}", "a{b}c", "}{", "ip:::1"])
def test_the_keys_of_one_check_share_one_slot(tag: str) -> None:
    plan = plan_for(("5/second", "100/minute", "1000/day"), "fixed_window", None, "rl")
    keys = plan.keys(tag)
    assert len(set(keys)) == 3
    assert len(slots(keys)) == 1
    # ...and the slot is the client's own, not the whole key's.
    assert "{}" not in keys[0]


def test_an_empty_client_is_not_an_empty_hash_tag() -> None:
    plan = plan_for(("5/second", "100/minute"), "gcra", None, "rl")
    assert plan.keys("")[0].startswith("rl{()}")
    assert plan.keys("") != plan.keys("x")


def test_uri_nodes_credentials_and_options() -> None:
    nodes, options = parse_cluster_uri(
        "redis+cluster://me:p%40ss@10.0.0.1:7000,10.0.0.2,[::1]:7002/?ssl=true"
        "&ssl_cert_reqs=none&health_check_interval=5"
    )
    assert nodes == [("10.0.0.1", 7000), ("10.0.0.2", 6379), ("::1", 7002)]
    assert options == {
        "username": "me",
        "password": "p@ss",
        "ssl": True,
        "ssl_cert_reqs": "none",
        "health_check_interval": 5,
    }
    assert parse_cluster_uri("redis+cluster://h:7000") == ([("h", 7000)], {})


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("redis+cluster://:s3cret@/", "at least one cluster node"),
        ("redis+cluster://:s3cret@h:7000/2", "only database 0"),
        ("redis+cluster://:s3cret@h:port", "must be a number"),
        ("redis+cluster://:s3cret@h:7000/?health_check_interval=soon", "invalid value"),
    ],
)
def test_a_uri_that_does_not_parse_says_why_without_the_password(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        parse_cluster_uri(uri)
    assert "s3cret" not in str(raised.value)


def test_a_bad_uri_is_an_outage_not_a_500(settings: Any) -> None:
    store = get_store("redis+cluster://:s3cret@h:port")
    plan = plan_for(("5/minute",), "fixed_window", None, "rl")
    with pytest.raises(StoreUnavailable) as raised:
        store.check("c", plan)
    assert "s3cret" not in str(raised.value)


def test_nothing_connects_while_the_store_is_made() -> None:
    store = RedisClusterStore.from_uri("redis+cluster://:s3cret@127.0.0.1:1/")
    assert store.client is None
    assert store.alias == "redis+cluster://:***@127.0.0.1:1/"
    assert store.shared
    assert store.atomic
    # No node answers: unavailable, and the store's breaker (no master known) counts it.
    plan = plan_for(("5/minute",), "fixed_window", None, "rl")
    with pytest.raises(StoreUnavailable):
        store.check("c", plan)
    assert store.breaker.failures == 1
    assert store.breakers == {}


def test_the_scheme_is_registered() -> None:
    assert ratelimit.store_class_for_uri("redis+cluster://h:7000") is RedisClusterStore
    assert "redis+cluster" in ratelimit.known_schemes()


def test_e107_a_brace_in_the_key_prefix(settings: Any) -> None:
    use_throttles(settings, "AnyUser")
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_KEY_PREFIX": "app:{rl}"}
    messages = checks.check_throttle_key_prefix()
    assert [message.id for message in messages] == ["apierrors.E107"]
    assert "'app:{rl}'" in messages[0].msg
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_KEY_PREFIX": "app:rl"}
    assert checks.check_throttle_key_prefix() == []


def test_cluster_cache_location_becomes_a_cluster_uri(settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "cluster": {
            "BACKEND": "django_valkey.cluster_cache.cache.ClusterValkeyCache",
            "LOCATION": ["valkey://u:s%3Acret@10.0.0.1:7000", "valkey://10.0.0.2:7001"],
        },
        "plain": {
            "BACKEND": "django_valkey.cluster_cache.cache.ClusterValkeyCache",
            "LOCATION": "valkeys://10.0.0.1:7000,10.0.0.3:7003",
            "OPTIONS": {"PASSWORD": "pw"},
        },
    }
    cluster = cluster_uri_for_cache("cluster")
    assert cluster == "redis+cluster://u:s%3Acret@10.0.0.1:7000,10.0.0.2:7001/"
    assert parse_cluster_uri(cluster)[1]["password"] == "s:cret"
    assert cluster_uri_for_cache("plain") == (
        "redis+cluster://:pw@10.0.0.1:7000,10.0.0.3:7003/?ssl=true"
    )


def test_django_valkeys_cluster_cache_is_served() -> None:
    cache = pytest.importorskip("django_valkey.cluster_cache.cache")
    backend = cache.ClusterValkeyCache
    assert ratelimit.store_class_for_backend(backend) is RedisClusterStore
    subclass = type("MyCluster", (backend,), {})
    assert ratelimit.store_class_for_backend(subclass) is RedisClusterStore

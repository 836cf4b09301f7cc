"""Sentinel failover seen through the sandbox's throttled views (the store-level test is
tests/test_ratelimit_redis.py::test_sentinel_client_follows_a_failover).

A primary, a replica and one ``redis-server --sentinel``; the sandbox's throttles use
django-redis's ``SentinelClient``. After ``SENTINEL FAILOVER`` the views keep answering
(a request caught mid-failover passes unthrottled, ``FAIL_OPEN``), and once the throttle
finds the new primary the user's count carries on from the replicated value instead of
starting over: the quota survives the failover.

The second drill kills the primary (SIGKILL, no goodbye) while clients keep calling: the
sentinel finds out after ``down-after-milliseconds`` and promotes the replica. Through the
gap every request is answered as ``FAIL_OPEN`` says (passed unthrottled, or 503), never a
500; after the promotion the throttle is exact again (a new client: 100 of 150).
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from typing import Any

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from sandbox.accounts.tokens import access_token_for
from tests.cluster.drill import answer, hammer
from tests.fixtures.services import start_redis
from tests.test_ratelimit_redis import Sentinel
from tests.throttle_app.helpers import redis_cache, set_rates

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

SEGMENTS = "/api/v1/segments/"


def remaining(client: APIClient) -> int | None:
    response = client.get(SEGMENTS)
    assert response.status_code == 200, response.content
    value = response.headers.get("X-RateLimit-Remaining")
    return None if value is None else int(value)


def test_throttle_follows_the_new_primary_and_keeps_the_count(settings: Any) -> None:
    primary = start_redis()
    replica = start_redis(["--replicaof", "127.0.0.1", str(primary.port)])
    service = f"sandbox{primary.port}"
    sentinel = Sentinel(primary.port, service)
    try:
        settings.CACHES = {
            "default": redis_cache(
                f"redis://{service}/0",
                CLIENT_CLASS="django_redis.client.SentinelClient",
                CONNECTION_FACTORY="django_redis.pool.SentinelConnectionFactory",
                SENTINELS=[("127.0.0.1", sentinel.port)],
            )
        }
        set_rates(settings, user="100/hour", anon="100/hour", **{"campaign-writes": "100/hour"})
        call_command("seed_demo", stdout=io.StringIO())
        demo = get_user_model().objects.get(username="demo")
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(demo)}")
        hour = int(time.time()) // 3600

        assert [remaining(client) for _ in range(3)] == [99, 98, 97]
        replica_client = redis.Redis.from_url(replica.url)
        primary_client = redis.Redis.from_url(primary.url)
        # The replica holds the count before it is promoted.
        sentinel.wait(lambda: primary_client.execute_command("WAIT", 1, 1000) >= 1)
        sentinel.wait(lambda: sentinel.client.execute_command("SENTINEL", "REPLICAS", service))
        sentinel.client.execute_command("SENTINEL", "FAILOVER", service)
        sentinel.wait(
            lambda: (
                replica_client.info("replication")["role"] == "master"
                and primary_client.info("replication")["role"] == "slave"
            )
        )
        # Every request is answered while the throttle looks for the new primary; once it
        # has found it, the count continues where the old primary left it.
        counted = sentinel.wait(lambda: remaining(client), timeout=20)
        if int(time.time()) // 3600 == hour:
            assert counted <= 96
        later = remaining(client)
        assert later is not None
        assert later == counted - 1
        assert replica_client.dbsize() > 0
        replica_client.close()
        primary_client.close()
    finally:
        sentinel.stop()
        replica.stop()
        primary.stop()


@pytest.mark.parametrize("fail_open", [True, False], ids=["fail-open", "fail-closed"])
def test_a_killed_primary_is_an_outage_until_the_replica_is_promoted(
    settings: Any, fail_open: bool
) -> None:
    primary = start_redis()
    replica = start_redis(["--replicaof", "127.0.0.1", str(primary.port)])
    service = f"killed{primary.port}"
    sentinel = Sentinel(primary.port, service)
    replica_client = redis.Redis.from_url(replica.url)
    try:
        settings.ROOT_URLCONF = "tests.cluster.urls"  # 100/minute per X-Client
        settings.CACHES = {
            "default": redis_cache(
                f"redis://{service}/0",
                CLIENT_CLASS="django_redis.client.SentinelClient",
                CONNECTION_FACTORY="django_redis.pool.SentinelConnectionFactory",
                SENTINELS=[("127.0.0.1", sentinel.port)],
            )
        }
        settings.APIERRORS = {
            **settings.APIERRORS,
            "FAIL_OPEN": fail_open,
            "BREAKER_COOLDOWN": 0.5,
            "THROTTLE_STORE_TIMEOUT": 0.25,
            # The load goes to Redis on every request, refused or not: a refusal remembered
            # in memory would answer it through the outage.
            "REMEMBER_DENIALS": False,
        }
        gap = "passed" if fail_open else "refused"
        sentinel.wait(lambda: replica_client.info("replication")["master_link_status"] == "up")
        sentinel.wait(lambda: sentinel.client.execute_command("SENTINEL", "REPLICAS", service))
        assert hammer(["before"], 150)["before"] == {"admitted": 100, "counted": 50}

        answers: Counter[str] = Counter()
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                try:
                    answers[answer("load")[0]] += 1
                except AssertionError as error:  # a 500, or a 503 that is not the envelope
                    answers[str(error)] += 1

        loader = threading.Thread(target=load)
        loader.start()
        try:
            time.sleep(0.3)
            assert primary.process is not None
            primary.process.kill()
            primary.process.wait(timeout=10)
            primary.process = None
            killed_at = time.monotonic()
            sentinel.wait(lambda: answer("gap")[0] == gap, timeout=10)
            sentinel.wait(lambda: replica_client.info("replication")["role"] == "master", 30)
            promoted_at = time.monotonic() - killed_at
            sentinel.wait(lambda: answer("gap")[0] in ("admitted", "counted"), timeout=30)
            recovered_at = time.monotonic() - killed_at
        finally:
            stop.set()
            loader.join(timeout=30)
        assert set(answers) <= {"admitted", "counted", gap}, answers
        assert answers[gap] >= 1
        assert hammer(["after"], 150)["after"] == {"admitted": 100, "counted": 50}
        print(
            f"\nfail_open={fail_open}: primary killed, replica promoted after "
            f"{promoted_at:.1f} s, throttled again after {recovered_at:.1f} s; "
            f"answers under load {dict(answers)}"
        )
    finally:
        replica_client.close()
        sentinel.stop()
        replica.stop()
        primary.stop()

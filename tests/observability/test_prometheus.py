"""Prometheus metrics in one process (the sandbox installs ``apierrors.contrib.prometheus``)."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from apierrors.contrib import prometheus as metrics
from tests.fixtures.services import free_port
from tests.throttle_app.helpers import redis_cache, set_rates, use_cache

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.throttle_app.fixtures"]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_installed_by_installed_apps():
    from apierrors import signals

    assert metrics.on_error_response in signals._error_hooks
    assert metrics.on_throttle_decision in signals._decision_hooks


def test_error_responses_counted_by_code_status_and_route(api_client):
    labels = {"code": "RESOURCE_NOT_FOUND", "status": "404", "route": "t/drf/<str:name>/"}
    before = value("apierrors_error_responses_total", **labels)
    for _ in range(3):
        api_client.get("/t/drf/not_found/")
    api_client.get("/t/drf/permission_denied/")
    assert value("apierrors_error_responses_total", **labels) == before + 3


def test_throttle_decisions_usage_and_latency(api_client, clock, redis_store, settings):
    set_rates(settings, user="4/minute")
    allowed = {"scope": "user", "outcome": "allowed"}
    denied = {"scope": "user", "outcome": "denied"}
    before = (
        value("apierrors_throttle_decisions_total", **allowed),
        value("apierrors_throttle_decisions_total", **denied),
    )
    latency_before = value("apierrors_ratelimit_store_latency_seconds_count", store=redis_store)
    near_before = value("apierrors_throttle_usage_ratio_bucket", scope="user", le="0.75")
    all_before = value("apierrors_throttle_usage_ratio_count", scope="user")
    for _ in range(6):
        api_client.get("/t/throttle/user/")
    assert value("apierrors_throttle_decisions_total", **allowed) == before[0] + 4
    assert value("apierrors_throttle_decisions_total", **denied) == before[1] + 2
    assert value("apierrors_ratelimit_store_latency_seconds_count", store=redis_store) == (
        latency_before + 6
    )
    # Used shares of the 4 allowed: 1/4, 2/4, 3/4, 4/4: three are at most 0.75.
    assert value("apierrors_throttle_usage_ratio_bucket", scope="user", le="0.75") == (
        near_before + 3
    )
    assert value("apierrors_throttle_usage_ratio_count", scope="user") == all_before + 4
    assert value("apierrors_ratelimit_breaker_open", store=redis_store) == 0


def test_store_outage_and_breaker(api_client, clock, settings):
    set_rates(settings, user="5/minute")
    alias = use_cache(
        settings, redis_cache(f"redis://127.0.0.1:{free_port()}/0"), BREAKER_FAILURES=1
    )
    for _ in range(2):
        assert api_client.get("/t/throttle/user/").status_code == 200  # FAIL_OPEN
    assert value("apierrors_ratelimit_store_unavailable_total", store=alias, policy="open") == 2
    assert value("apierrors_throttle_decisions_total", scope="user", outcome="fail_open") >= 2
    assert value("apierrors_ratelimit_breaker_open", store=alias) == 1


def test_metrics_view_serves_the_text_format(api_client):
    api_client.get("/t/drf/not_found/")
    response = api_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    samples = families["apierrors_error_responses"].samples
    assert any(s.labels["route"] == "t/drf/<str:name>/" and s.value >= 1 for s in samples)


def test_metrics_view_speaks_openmetrics_when_asked(api_client):
    response = api_client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().rstrip().endswith("# EOF")


def test_counted_under_asgi(settings):
    labels = {"code": "RESOURCE_NOT_FOUND", "status": "404", "route": "t/drf/<str:name>/"}
    before = value("apierrors_error_responses_total", **labels)
    client = AsyncClient()
    response = async_to_sync(client.get)("/t/drf/not_found/")
    assert response.status_code == 404
    assert value("apierrors_error_responses_total", **labels) == before + 1


# The hooks keep each labelled child in a dict (apierrors.contrib.prometheus._errors...):
# a label set met for the first time later on, or one a test dropped from the metric, must
# still reach the registry.


def test_a_label_set_first_met_after_warm_up_is_counted(api_client):
    for _ in range(3):
        api_client.get("/t/drf/not_found/")
    labels = {"code": "METHOD_NOT_ALLOWED", "status": "405", "route": "t/code/<str:code>/"}
    before = value("apierrors_error_responses_total", **labels)
    api_client.get("/t/code/METHOD_NOT_ALLOWED/")
    api_client.get("/t/drf/not_found/")
    assert value("apierrors_error_responses_total", **labels) == before + 1


@pytest.mark.parametrize("drop", ["clear", "remove", "remove_by_labels"])
def test_counted_again_once_the_metric_dropped_its_label_sets(api_client, drop):
    if not hasattr(metrics.ERROR_RESPONSES, drop):
        pytest.skip(f"prometheus_client {version('prometheus-client')} has no {drop}()")
    labels = {"code": "RESOURCE_NOT_FOUND", "status": "404", "route": "t/drf/<str:name>/"}
    api_client.get("/t/drf/not_found/")
    assert value("apierrors_error_responses_total", **labels) >= 1
    if drop == "clear":
        metrics.ERROR_RESPONSES.clear()
    elif drop == "remove":
        metrics.ERROR_RESPONSES.remove(*labels.values())
    else:
        metrics.ERROR_RESPONSES.remove_by_labels(labels)
    assert REGISTRY.get_sample_value("apierrors_error_responses_total", labels) is None
    for _ in range(2):
        api_client.get("/t/drf/not_found/")
    assert value("apierrors_error_responses_total", **labels) == 2


def test_throttle_metrics_counted_again_once_cleared(api_client, clock, redis_store, settings):
    set_rates(settings, user="4/minute")
    allowed = {"scope": "user", "outcome": "allowed"}
    api_client.get("/t/throttle/user/")
    for metric in (
        metrics.THROTTLE_DECISIONS,
        metrics.STORE_LATENCY,
        metrics.THROTTLE_USAGE,
        metrics.BREAKER_OPEN,
    ):
        metric.clear()
    api_client.get("/t/throttle/user/")
    assert value("apierrors_throttle_decisions_total", **allowed) == 1
    assert value("apierrors_ratelimit_store_latency_seconds_count", store=redis_store) == 1
    assert value("apierrors_throttle_usage_ratio_count", scope="user") == 1
    # The breaker's gauge is written when its state changes; once cleared, at the next check.
    assert (
        REGISTRY.get_sample_value("apierrors_ratelimit_breaker_open", {"store": redis_store}) == 0
    )

"""The two signals: what they carry, and that nothing is built while nobody listens."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.dispatch import Signal
from django.http import Http404
from django.test import AsyncClient
from django.urls import resolve
from rest_framework.test import APIRequestFactory

from apierrors import signals
from apierrors.handler import ExceptionHandler
from tests.fixtures.services import free_port
from tests.throttle_app import views
from tests.throttle_app.helpers import redis_cache, set_rates, use_cache

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.throttle_app.fixtures"]


def test_error_response_from_a_drf_view(api_client, errors_received):
    response = api_client.get("/t/code/RESOURCE_CONFLICT/")
    assert response.status_code == 409
    (call,) = errors_received.calls
    assert issubclass(call["sender"], ExceptionHandler)
    assert call["code"] == "RESOURCE_CONFLICT"
    assert call["status"] == 409
    assert call["route"] == "t/code/<str:code>/"
    assert call["request"].path == "/t/code/RESOURCE_CONFLICT/"
    assert call["request"].request_id == response["X-Request-ID"]
    assert type(call["exception"]).__name__ == "ResourceConflict"
    assert call["unexpected"] is False
    assert call["response"].status_code == 409


def test_error_response_route_is_the_pattern_never_the_path(api_client, errors_received):
    api_client.get("/t/drf/not_found/")
    api_client.get("/t/drf/permission_denied/")
    assert [c["route"] for c in errors_received.calls] == ["t/drf/<str:name>/"] * 2
    assert [c["code"] for c in errors_received.calls] == ["RESOURCE_NOT_FOUND", "FORBIDDEN"]


def test_unexpected_exception_in_a_plain_django_view(api_client, errors_received):
    response = api_client.get("/t/django/boom/")
    assert response.status_code == 500
    (call,) = errors_received.calls
    assert (call["code"], call["status"], call["unexpected"]) == ("SERVER_ERROR", 500, True)
    assert call["route"] == "t/django/<str:name>/"
    assert isinstance(call["exception"], RuntimeError)


def test_unmatched_url(api_client, errors_received):
    response = api_client.get("/no/such/url/")
    assert response.status_code == 404
    (call,) = errors_received.calls
    assert call["code"] == "RESOURCE_NOT_FOUND"
    assert call["route"] == signals.ROUTE_UNMATCHED
    assert isinstance(call["exception"], Http404)
    assert call["unexpected"] is False


def test_throttle_decisions_allowed_then_denied(
    api_client, decisions_received, clock, redis_store, settings
):
    set_rates(settings, user="2/minute")
    statuses = [api_client.get("/t/throttle/user/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    calls = decisions_received.calls
    assert [c["allowed"] for c in calls] == [True, True, False]
    assert [c["remaining"] for c in calls] == [1, 0, 0]
    assert {c["limit"] for c in calls} == {2}
    assert {c["scope"] for c in calls} == {"user"}
    assert {c["store"] for c in calls} == {redis_store}
    assert {c["sender"] for c in calls} == {views.UserThrottle}
    window_end = int(clock.now) - int(clock.now) % 60 + 60
    assert {c["reset"] for c in calls} == {window_end}
    for call in calls:
        assert 0 < call["latency"] < 1
        assert call["store_unavailable"] is False
        assert call["fail_open"] is None
        assert call["breaker_open"] is False
        assert call["request"].path == "/t/throttle/user/"


@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
def test_throttle_decision_with_the_store_down(
    api_client, decisions_received, clock, settings, fail_open, status
):
    set_rates(settings, user="5/minute")
    # A port nobody listens on: Redis refuses every connection.
    alias = use_cache(
        settings,
        redis_cache(f"redis://127.0.0.1:{free_port()}/0"),
        FAIL_OPEN=fail_open,
        BREAKER_FAILURES=2,
    )
    answers = [api_client.get("/t/throttle/user/").status_code for _ in range(3)]
    assert answers == [status] * 3
    calls = decisions_received.calls
    assert len(calls) == 3
    for call in calls:
        assert call["store_unavailable"] is True
        assert call["fail_open"] is fail_open
        assert call["allowed"] is fail_open
        assert call["store"] == alias
        assert call["limit"] is None
    # The breaker opens after two failures.
    assert [c["breaker_open"] for c in calls] == [False, True, True]


def test_helpers_return_before_building_anything(monkeypatch):
    # With no receiver, the helpers must not touch their arguments at all.
    monkeypatch.setattr(signals.throttle_decision, "receivers", [])
    monkeypatch.setattr(signals.error_response, "receivers", [])
    monkeypatch.setattr(signals, "_error_hooks", [])
    monkeypatch.setattr(signals, "_decision_hooks", [])
    assert signals.listening() == 0.0
    poison = object()
    signals.send_throttle_decision(poison, poison, poison, 0.0)  # type: ignore[arg-type]
    signals.send_throttle_decision(poison, poison, poison, 12.5)  # type: ignore[arg-type]
    signals.send_error_response(poison, poison, poison, poison)  # type: ignore[arg-type]


def test_listening_reads_the_clock_only_with_a_receiver(decisions_received):
    assert signals.listening() > 0


def test_listening_reads_the_clock_with_a_hook_alone(monkeypatch):
    monkeypatch.setattr(signals.throttle_decision, "receivers", [])
    monkeypatch.setattr(signals, "_decision_hooks", [])
    assert signals.listening() == 0.0
    signals.subscribe(signals.throttle_decision, lambda *args: None)
    assert signals.listening() > 0


def test_hooks_get_the_signal_arguments(api_client, clock, redis_store, settings, monkeypatch):
    # The built-in integrations' direct calls see what a receiver of the signal sees.
    monkeypatch.setattr(signals, "_error_hooks", [])
    monkeypatch.setattr(signals, "_decision_hooks", [])
    errors: list[tuple[Any, ...]] = []
    decisions: list[tuple[Any, ...]] = []
    signals.subscribe(signals.error_response, lambda *args: errors.append(args))
    signals.subscribe(signals.throttle_decision, lambda *args: decisions.append(args))
    set_rates(settings, user="1/minute")
    assert api_client.get("/t/throttle/user/").status_code == 200
    assert api_client.get("/t/throttle/user/").status_code == 429
    (code, status, route, request, exception, unexpected) = errors[0]
    assert (code, status, unexpected) == ("RATE_LIMIT_EXCEEDED", 429, False)
    assert route == "t/throttle/user/"
    assert request.path == "/t/throttle/user/"
    assert type(exception).__name__ == "Throttled"
    assert [d[1:6] for d in decisions] == [
        ("user", redis_store, True, 1, 0),
        ("user", redis_store, False, 1, 0),
    ]
    assert all(d[0].path == "/t/throttle/user/" for d in decisions)
    assert all(d[6] == int(clock.now) + 60 for d in decisions)
    assert all(d[7] > 0 for d in decisions)
    assert all(d[8:] == (False, None, False) for d in decisions)


def test_subscribe_is_idempotent_and_checks_the_signal(monkeypatch):
    monkeypatch.setattr(signals, "_error_hooks", [])

    def hook(*args: object) -> None:
        pass

    signals.subscribe(signals.error_response, hook)
    signals.subscribe(signals.error_response, hook)
    assert signals._error_hooks == [hook]
    signals.unsubscribe(signals.error_response, hook)
    signals.unsubscribe(signals.error_response, hook)
    assert signals._error_hooks == []
    with pytest.raises(ValueError, match="not one of"):
        signals.subscribe(Signal(), hook)


def test_route_of():
    request = APIRequestFactory().get("/x/")
    assert signals.route_of(request) == signals.ROUTE_UNMATCHED
    assert signals.route_of(None) == signals.ROUTE_UNMATCHED


def test_rewritten_error_page(api_client, errors_received):
    assert api_client.get("/t/django/html_400/").status_code == 400
    (call,) = errors_received.calls
    assert (call["code"], call["exception"], call["unexpected"]) == (
        "BAD_REQUEST",
        None,
        False,
    )


def test_a_failing_receiver_never_breaks_the_answer(
    api_client, clock, redis_store, settings, caplog
):
    def broken(sender, **kwargs):
        raise RuntimeError("metrics backend down")

    set_rates(settings, user="5/minute")
    signals.error_response.connect(broken, weak=False)
    signals.throttle_decision.connect(broken, weak=False)
    try:
        assert api_client.get("/t/throttle/user/").status_code == 200
        response = api_client.get("/t/code/RESOURCE_CONFLICT/")
    finally:
        signals.error_response.disconnect(broken)
        signals.throttle_decision.disconnect(broken)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "RESOURCE_CONFLICT"
    failures = [r for r in caplog.records if r.name == "django.dispatch"]
    assert len(failures) == 2
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in failures)


def test_a_failing_hook_never_breaks_the_answer(api_client, clock, redis_store, settings, caplog):
    def broken(*args):
        raise RuntimeError("metrics backend down")

    set_rates(settings, user="5/minute")
    signals.subscribe(signals.error_response, broken)
    signals.subscribe(signals.throttle_decision, broken)
    try:
        assert api_client.get("/t/throttle/user/").status_code == 200
        response = api_client.get("/t/code/RESOURCE_CONFLICT/")
    finally:
        signals.unsubscribe(signals.error_response, broken)
        signals.unsubscribe(signals.throttle_decision, broken)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "RESOURCE_CONFLICT"
    failures = [r for r in caplog.records if r.name == "apierrors.signals"]
    assert len(failures) == 2
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in failures)


@pytest.mark.parametrize(
    ("path", "unexpected"),
    [
        ("/t/code/SERVER_ERROR/", False),  # apierrors' ServerError, raised on purpose
        ("/t/drf/custom_500_api_exception/", False),  # another package's 500 APIException
        ("/t/drf/uncaught/", True),  # a bug in a DRF view
        ("/t/django/boom/", True),  # a bug in a plain Django view
    ],
)
def test_unexpected_is_a_failure_nobody_raised_on_purpose(
    api_client, errors_received, path, unexpected
):
    assert api_client.get(path).status_code == 500
    (call,) = errors_received.calls
    assert call["code"] == "SERVER_ERROR"
    assert call["unexpected"] is unexpected


@pytest.mark.urls("tests.observability.root_urls")
def test_the_root_pattern_is_a_route(api_client, errors_received):
    # Django's route of ``path("", view)`` is empty: the request matched it all the same.
    assert api_client.get("/").status_code == 404
    (call,) = errors_received.calls
    assert call["route"] == ""
    request = APIRequestFactory().get("/")
    request.resolver_match = resolve("/")
    assert signals.route_of(request) == ""


@pytest.mark.urls("tests.asyncio.urls")
def test_async_receivers_on_the_async_paths(settings, redis_store, clock):
    # adrf's views and athrottle check throttles and build the 429 in the event loop's
    # thread, where Django's send_robust cannot run an async receiver (async_to_sync).
    received: list[tuple[str, Any]] = []

    async def receiver(sender: Any, **kwargs: Any) -> None:
        if "code" in kwargs:
            received.append(("error", kwargs["code"]))
        else:
            received.append(("decision", kwargs["allowed"]))

    set_rates(settings, user="1/minute")
    signals.throttle_decision.connect(receiver, weak=False)
    signals.error_response.connect(receiver, weak=False)
    client = AsyncClient(raise_request_exception=False)
    try:
        statuses = [async_to_sync(client.get)(path).status_code for path in ["/a/user/"] * 2]
        clock.now += 60  # the next window
        statuses += [async_to_sync(client.get)(path).status_code for path in ["/a/plain/"] * 2]
    finally:
        signals.throttle_decision.disconnect(receiver)
        signals.error_response.disconnect(receiver)
    assert statuses == [200, 429, 200, 429]
    expected = [("decision", True), ("decision", False), ("error", "RATE_LIMIT_EXCEEDED")]
    assert received == expected * 2


@pytest.mark.urls("tests.asyncio.urls")
def test_failing_receivers_on_the_async_paths_never_break_the_answer(
    settings, redis_store, clock, caplog
):
    calls: list[str] = []

    def broken(sender: Any, **kwargs: Any) -> None:
        calls.append("sync")
        raise RuntimeError("metrics backend down")

    async def abroken(sender: Any, **kwargs: Any) -> None:
        calls.append("async")
        raise RuntimeError("metrics backend down")

    set_rates(settings, user="1/minute")
    for signal in (signals.throttle_decision, signals.error_response):
        signal.connect(broken, weak=False)
        signal.connect(abroken, weak=False)
    client = AsyncClient(raise_request_exception=False)
    try:
        statuses = [async_to_sync(client.get)("/a/user/").status_code for _ in range(2)]
    finally:
        for signal in (signals.throttle_decision, signals.error_response):
            signal.disconnect(broken)
            signal.disconnect(abroken)
    assert statuses == [200, 429]
    # Two decisions and one error response, each to both receivers.
    assert sorted(calls) == ["async"] * 3 + ["sync"] * 3
    failures = [r for r in caplog.records if r.name == "django.dispatch"]
    assert len(failures) == 6
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in failures)

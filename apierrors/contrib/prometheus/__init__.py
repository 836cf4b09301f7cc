"""Prometheus metrics of error responses and throttle decisions (``pip install
apierrors[prometheus]``).

Add ``"apierrors.contrib.prometheus"`` to ``INSTALLED_APPS`` (or call ``install()``) and
mount ``metrics_view`` (or let django-prometheus serve the default registry, where these
metrics live)::

    path("metrics", apierrors.contrib.prometheus.metrics_view)

Every label set is bounded: codes, statuses, URL patterns (never raw paths), throttle
scopes and cache aliases. Under gunicorn with several workers set
``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, emptied at each start) and call
``child_exit`` from gunicorn's hook of that name; the view then adds up every worker's
values. The metrics are created when this module is imported; ``docs/observability.md``
lists them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.exposition import choose_encoder

from apierrors import signals

if TYPE_CHECKING:
    from prometheus_client.metrics import MetricWrapperBase as _Metric
else:
    _Metric = object

__all__ = [
    "BREAKER_OPEN",
    "ERROR_RESPONSES",
    "STORE_LATENCY",
    "STORE_UNAVAILABLE",
    "THROTTLE_DECISIONS",
    "THROTTLE_USAGE",
    "child_exit",
    "install",
    "metrics_view",
    "on_error_response",
    "on_throttle_decision",
    "uninstall",
]

# Children by label values, so the hot paths skip ``labels()`` (a lock, a tuple check, a
# str() of each value): one dict lookup per event.
_errors: dict[tuple[str, int, str], Any] = {}
# For an allowed check, the three children it updates: decisions, store latency, usage.
_allowed: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
_others: dict[tuple[str, str, str], tuple[Any, Any]] = {}
# The breaker state last written per store, so the gauge is set only when it changes.
_breaker: dict[str, bool] = {}


def _forget() -> None:
    """Empty the caches above: the children they hold may no longer be the metrics'."""
    for cache in (_errors, _allowed, _others, _breaker):
        cache.clear()


class _Forgetful(_Metric):
    """A metric whose label sets, once dropped (``remove``, ``remove_by_labels``, ``clear``,
    as a test resetting the metrics does), are dropped from the hooks' caches too, so the
    next event creates a child the registry sees rather than updating a detached one."""

    def remove(self, *labelvalues: Any) -> None:
        super().remove(*labelvalues)
        _forget()

    if hasattr(Counter, "remove_by_labels"):  # not in the oldest prometheus_client supported

        def remove_by_labels(self, labels: dict[str, str]) -> None:
            super().remove_by_labels(labels)
            _forget()

    def clear(self) -> None:
        super().clear()
        _forget()


class _Counter(_Forgetful, Counter):
    pass


class _Histogram(_Forgetful, Histogram):
    pass


class _Gauge(_Forgetful, Gauge):
    pass


ERROR_RESPONSES = _Counter(
    "apierrors_error_responses",
    "Error responses (envelopes) sent, by code, status and URL pattern.",
    ["code", "status", "route"],
)
THROTTLE_DECISIONS = _Counter(
    "apierrors_throttle_decisions",
    "Throttle checks by scope and outcome: allowed, denied, or, with the store "
    "unavailable, fail_open (let through) or fail_closed (503).",
    ["scope", "outcome"],
)
THROTTLE_USAGE = _Histogram(
    "apierrors_throttle_usage_ratio",
    "Share of the decisive policy's limit used once an allowed request is counted "
    "(1 - remaining / limit), by scope.",
    ["scope"],
    buckets=(0.25, 0.5, 0.75, 0.9, 0.95, 1.0),
)
STORE_LATENCY = _Histogram(
    "apierrors_ratelimit_store_latency_seconds",
    "Time one throttle check spent in the rate-limit store, by cache alias.",
    ["store"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
STORE_UNAVAILABLE = _Counter(
    "apierrors_ratelimit_store_unavailable",
    "Throttle checks that found the rate-limit store unavailable, by cache alias and the "
    "outage policy applied (open: let through, closed: 503).",
    ["store", "policy"],
)
BREAKER_OPEN = _Gauge(
    "apierrors_ratelimit_breaker_open",
    "1 while the store's circuit breaker is open in at least one live process, else 0.",
    ["store"],
    multiprocess_mode="livemax",
)


def on_error_response(
    code: str,
    status: int,
    route: str,
    request: HttpRequest | None,
    exception: BaseException | None,
    unexpected: bool,
) -> None:
    """The ``error_response`` hook: count the envelope."""
    try:
        child = _errors[code, status, route]
    except KeyError:
        child = _errors[code, status, route] = ERROR_RESPONSES.labels(code, str(status), route)
    child.inc()


def on_throttle_decision(
    request: HttpRequest,
    scope: str,
    store: str,
    allowed: bool,
    limit: int | None,
    remaining: int | None,
    reset: int | None,
    latency: float,
    store_unavailable: bool,
    fail_open: bool | None,
    breaker_open: bool,
) -> None:
    """The ``throttle_decision`` hook: count the decision, observe the store's latency and,
    for an allowed check, the share of the limit used."""
    if allowed and not store_unavailable:
        # The common case: one lookup, one counter and two histogram updates.
        try:
            decisions, latencies, usage = _allowed[scope, store]
        except KeyError:
            decisions, latencies, usage = _allowed[scope, store] = (
                THROTTLE_DECISIONS.labels(scope, "allowed"),
                STORE_LATENCY.labels(store),
                THROTTLE_USAGE.labels(scope),
            )
        decisions.inc()
        latencies.observe(latency)
        if limit and remaining is not None:
            usage.observe((limit - remaining) / limit)
    else:
        if store_unavailable:
            outcome = "fail_open" if fail_open else "fail_closed"
            STORE_UNAVAILABLE.labels(store, "open" if fail_open else "closed").inc()
        else:
            outcome = "denied"
        pair = _others.get((scope, store, outcome))
        if pair is None:
            pair = _others[scope, store, outcome] = (
                THROTTLE_DECISIONS.labels(scope, outcome),
                STORE_LATENCY.labels(store),
            )
        pair[0].inc()
        pair[1].observe(latency)
    if _breaker.get(store) is not breaker_open:
        _breaker[store] = breaker_open
        BREAKER_OPEN.labels(store).set(1 if breaker_open else 0)


def install() -> None:
    """Subscribe the hooks (``AppConfig.ready`` does it; calling it twice is harmless)."""
    signals.subscribe(signals.error_response, on_error_response)
    signals.subscribe(signals.throttle_decision, on_throttle_decision)


def uninstall() -> None:
    signals.unsubscribe(signals.error_response, on_error_response)
    signals.unsubscribe(signals.throttle_decision, on_throttle_decision)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def registry() -> CollectorRegistry:
    """The registry to expose: every worker's values in multiprocess mode, else this
    process's default registry."""
    if multiprocess_dir():
        collected = CollectorRegistry()
        _multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
        return collected
    return REGISTRY


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format (OpenMetrics when the scraper asks for it).

    A plain Django view: mount it where only the scraper can reach it.
    """
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(registry()), content_type=content_type)


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: forget a dead worker's live gauges.

    In ``gunicorn.conf.py``: ``from apierrors.contrib.prometheus import child_exit``.
    """
    if multiprocess_dir():
        _multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

"""pytest plugin loaded into Django REST framework's own test suite (``-p apierrors_drf_plugin``).

DRF's ``tests/conftest.py`` configures Django itself (``settings.configure(...)`` then
``django.setup()``). This plugin changes nothing in DRF's files; environment variables set
by ``tests/drf/harness.py`` say what to add:

- ``APIERRORS_DRF_INSTALL=1``: install apierrors as the quick start says, on top of DRF's
  settings, just before ``django.setup()`` runs: ``"apierrors"`` appended to
  ``INSTALLED_APPS``, ``APIErrorsMiddleware`` first in ``MIDDLEWARE``, and
  ``REST_FRAMEWORK["EXCEPTION_HANDLER"] = "apierrors.handler.exception_handler"``.
- ``APIERRORS_DRF_THROTTLES=1``: the names ``SimpleRateThrottle``, ``UserRateThrottle``,
  ``AnonRateThrottle`` and ``ScopedRateThrottle`` of ``rest_framework.throttling`` are
  bound to apierrors' classes before DRF's test modules import them, so DRF's throttle
  tests (and the throttles they subclass) exercise apierrors. ``BaseThrottle`` stays DRF's:
  apierrors' classes derive from it.
- ``APIERRORS_DRF_REDIS_URL``: the default cache (which DRF's tests clear, and which the
  throttles use) is a django-redis cache on that server instead of Django's LocMemCache.
- ``APIERRORS_DRF_REPORT``: where to write every test's outcome as JSON, for the harness
  to compare with the expected differences.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

INSTALL = os.environ.get("APIERRORS_DRF_INSTALL") == "1"
THROTTLES = os.environ.get("APIERRORS_DRF_THROTTLES") == "1"
REDIS_URL = os.environ.get("APIERRORS_DRF_REDIS_URL", "")
REPORT = os.environ.get("APIERRORS_DRF_REPORT", "")

# DRF's name -> apierrors' class standing in for it.
SUBSTITUTES = {
    "SimpleRateThrottle": "RateLimitThrottle",
    "UserRateThrottle": "UserRateLimitThrottle",
    "AnonRateThrottle": "AnonRateLimitThrottle",
    "ScopedRateThrottle": "ScopedRateLimitThrottle",
}

MIDDLEWARE = "apierrors.middleware.APIErrorsMiddleware"
EXCEPTION_HANDLER = "apierrors.handler.exception_handler"


def amend_settings() -> None:
    """Add apierrors (and the Redis cache) to the settings DRF's conftest configured."""
    from django.conf import settings

    if INSTALL:
        settings.INSTALLED_APPS = (*settings.INSTALLED_APPS, "apierrors")
        settings.MIDDLEWARE = (MIDDLEWARE, *settings.MIDDLEWARE)
        settings.REST_FRAMEWORK = {
            **getattr(settings, "REST_FRAMEWORK", {}),
            "EXCEPTION_HANDLER": EXCEPTION_HANDLER,
        }
    if REDIS_URL:
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": REDIS_URL,
            }
        }


# nodeid -> {"outcome": "passed" | "failed" | "skipped", "message": first line of the failure}
OUTCOMES: dict[str, dict[str, str]] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Runs before DRF's conftest: wrap django.setup(), which that conftest calls right after
    # settings.configure(), so the additions land between the two.
    import django

    original = django.setup

    def setup(*args: Any, **kwargs: Any) -> None:
        django.setup = original
        amend_settings()
        original(*args, **kwargs)

    django.setup = setup


def pytest_sessionstart(session: pytest.Session) -> None:
    # After every pytest_configure (Django is set up), before DRF's test modules are imported.
    if THROTTLES:
        import rest_framework.throttling as drf_throttling

        import apierrors.throttling as ours

        for drf_name, our_name in SUBSTITUTES.items():
            setattr(drf_throttling, drf_name, getattr(ours, our_name))


def pytest_runtest_setup(item: pytest.Item) -> None:
    # DRF's tests reset throttling by clearing the cache before each test; the refusals a
    # Redis store remembers in this process (REMEMBER_DENIALS) go with that state, as they
    # would with a new process.
    from apierrors.ratelimit import _stores

    for store in list(_stores.values()):
        if store.denied is not None:
            store.denied.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # A test fails if any of its phases (or subtests) fails.
    entry = OUTCOMES.setdefault(report.nodeid, {"outcome": "passed", "message": ""})
    if report.failed:
        if entry["outcome"] != "failed":
            entry["outcome"] = "failed"
            entry["message"] = _crash_message(report)
    elif report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "skipped"


def pytest_collectreport(report: pytest.CollectReport) -> None:
    # A module that fails to import is a failure under its own id (its tests never run).
    if report.failed:
        OUTCOMES[report.nodeid] = {"outcome": "failed", "message": _crash_message(report)}


def _crash_message(report: pytest.TestReport | pytest.CollectReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(crash.message if crash is not None else report.longrepr).strip()
    first = text.splitlines()[0] if text else ""
    return f"{getattr(report, 'when', 'collect')}: {first[:300]}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    if REPORT:
        Path(REPORT).write_text(json.dumps(OUTCOMES, indent=1, sort_keys=True) + "\n")

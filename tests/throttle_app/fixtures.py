"""Fixtures of the throttling tests: a store per kind, the throttles' clock, settings.

A test module loads them with ``pytest_plugins = ["tests.throttle_app.fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.throttle_app import views
from tests.throttle_app.helpers import next_alias, redis_cache, use_cache


@pytest.fixture
def clock() -> Iterator[views.Clock]:
    """The test views' clock, at the start of a day (so every window starts now)."""
    saved = views.clock.now
    views.clock.now = 1_800_000_000.0 - 1_800_000_000.0 % 86400
    yield views.clock
    views.clock.now = saved


@pytest.fixture
def redis_store(settings: Any, redis_url: str) -> str:
    """A django-redis cache on the private Redis, as the throttles' cache."""
    return use_cache(settings, redis_cache(redis_url))


@pytest.fixture
def memory_store(settings: Any) -> str:
    """A LocMemCache of its own, as the throttles' cache."""
    alias = f"mem{next_alias()}"
    return use_cache(
        settings,
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": alias},
    )


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> str:
    """Each store in turn, as the throttles' cache."""
    fixture = "memory_store" if request.param == "memory" else "redis_store"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=["fixed_window", "gcra"])
def algorithm(request: pytest.FixtureRequest, settings: Any) -> str:
    """Each algorithm in turn, as ``THROTTLE_ALGORITHM``."""
    settings.APIERRORS = {**settings.APIERRORS, "THROTTLE_ALGORITHM": request.param}
    return str(request.param)

"""Fixtures of the hostile suite: the sandbox's seeded users, tokens and clients, and
throttles loose enough that hundreds of hostile requests are not refused as too many."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import (  # noqa: F401 (fixtures)
    _fresh_cache,
    anonymous,
    as_demo,
    as_other,
    as_viewer,
    client_for,
    demo,
    other,
    seeded,
    token,
    viewer,
)


@pytest.fixture(autouse=True)
def loose_throttles(settings: Any) -> None:
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates.update(
        {
            "user": "1000000/hour",
            "anon": "1000000/hour",
            "token": "1000000/hour",
            "campaign-writes": "1000000/hour",
        }
    )
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

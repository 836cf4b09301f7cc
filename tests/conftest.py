from __future__ import annotations

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from apierrors.ratelimit import _stores as ratelimit_stores

pytest_plugins = ["tests.fixtures.services"]


@pytest.fixture
def api_client() -> APIClient:
    """A client that returns 500 responses instead of re-raising the view's exception."""
    return APIClient(raise_request_exception=False)


@pytest.fixture(autouse=True)
def _fresh_default_cache() -> None:
    """Each test starts with no rate-limit state: user ids and addresses repeat across tests,
    and the stores' remembered refusals (REMEMBER_DENIALS) go with the state they came from."""
    caches["default"].clear()
    for store in list(ratelimit_stores.values()):
        if store.denied is not None:
            store.denied.clear()

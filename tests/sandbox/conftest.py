"""Fixtures of the sandbox's end-to-end tests: the seeded users and real JWTs."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from sandbox.accounts import scopes
from sandbox.accounts.models import Profile
from sandbox.accounts.tokens import access_token_for


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The in-memory cache holds the throttles' counters; each test starts with whole quotas.
    cache.clear()


@pytest.fixture
def seeded(db: Any) -> None:
    """The demo data, as ``make run`` seeds it."""
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def demo(seeded: None) -> Any:
    return get_user_model().objects.get(username="demo")


@pytest.fixture
def viewer(seeded: None) -> Any:
    return get_user_model().objects.get(username="viewer")


@pytest.fixture
def other(db: Any) -> Any:
    """A second user with every scope, to see what belongs to someone else."""
    user = get_user_model().objects.create_user("other", password="other-password")
    Profile.objects.create(user=user, scopes=" ".join(scopes.ALL))
    return user


TokenFactory = Callable[..., str]


@pytest.fixture
def token() -> TokenFactory:
    """``token(user, scopes=None, expires_in=None)``: a signed access token."""

    def make(user: Any, scopes: list[str] | None = None, expires_in: int | None = None) -> str:
        lifetime = timedelta(seconds=expires_in) if expires_in is not None else None
        return str(access_token_for(user, scopes=scopes, expires_in=lifetime))

    return make


ClientFactory = Callable[..., APIClient]


@pytest.fixture
def client_for(token: TokenFactory) -> ClientFactory:
    """``client_for(user, **token_options)``: an APIClient sending a Bearer token."""

    def make(user: Any, **options: Any) -> APIClient:
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token(user, **options)}")
        return client

    return make


@pytest.fixture
def as_demo(demo: Any, client_for: ClientFactory) -> APIClient:
    return client_for(demo)


@pytest.fixture
def as_viewer(viewer: Any, client_for: ClientFactory) -> APIClient:
    return client_for(viewer)


@pytest.fixture
def as_other(other: Any, client_for: ClientFactory) -> APIClient:
    return client_for(other)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient(raise_request_exception=False)

"""Refused anonymous requests under DRF's default authentication, as DRF answers them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_session_first_answers_403_forbidden_as_drf_does(api_client):
    # DRF's rule: the first authentication class sends no challenge, so the refusal is a 403.
    response = api_client.get("/t/dropin/session-first/")
    error = response.json()["error"]
    assert response.status_code == 403
    assert error["code"] == "FORBIDDEN"
    assert error["message"] == "Authentication credentials were not provided."
    assert "WWW-Authenticate" not in response


def test_a_401_always_carries_its_challenge(api_client):
    response = api_client.get("/t/dropin/basic-first/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response["WWW-Authenticate"] == 'Basic realm="api"'


@pytest.mark.parametrize("path", ["/t/dropin/session-first/", "/t/dropin/basic-first/"])
def test_an_apierrors_unauthorized_follows_the_same_rule(api_client, path):
    response = api_client.get(path.replace("first/", "first/") + "?raise=unauthorized")
    if path.startswith("/t/dropin/session"):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"
        assert "WWW-Authenticate" not in response
    else:
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Basic realm="api"'

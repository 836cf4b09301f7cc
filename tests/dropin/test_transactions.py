"""A view in an atomic block that fails loses its writes, as it does under DRF's handler.

DRF lets every exception it does not convert out of the view, so the block around the view
rolls back; apierrors answers those exceptions, so it marks the open blocks for rollback.
Run on SQLite by default and on PostgreSQL with DATABASE_URL (the ``postgres`` run).
"""

from __future__ import annotations

import pytest

from tests.testapp.models import Thing

pytestmark = pytest.mark.django_db(transaction=True)

FAILURES = {
    "runtime": 500,
    "django_validation": 422,
    "protected": 409,
    "integrity": 409,
}


@pytest.mark.parametrize(("failure", "status"), FAILURES.items())
@pytest.mark.parametrize("prefix", ["atomic", "atomic-fn"])
def test_a_failure_drf_lets_out_rolls_the_atomic_view_back(api_client, prefix, failure, status):
    response = api_client.post(f"/t/dropin/{prefix}/{failure}/")

    assert response.status_code == status
    assert response.json()["error"]["requestId"]
    assert not Thing.objects.exists()


def test_an_api_exception_keeps_drf_behaviour_and_commits(api_client):
    # DRF answers an APIException inside the block, which then commits: so does apierrors.
    response = api_client.post("/t/dropin/atomic/not_found/")

    assert response.status_code == 404
    assert Thing.objects.filter(name="written-not_found").exists()


def test_atomic_requests_still_roll_back(api_client, settings):
    from django.db import connections

    connections["default"].settings_dict["ATOMIC_REQUESTS"] = True
    try:
        response = api_client.post("/t/write-then-conflict/")
    finally:
        connections["default"].settings_dict["ATOMIC_REQUESTS"] = False
    assert response.status_code == 409
    assert not Thing.objects.exists()


@pytest.mark.parametrize("failure", ["runtime", "integrity"])
def test_a_view_atomic_block_inside_atomic_requests_rolls_back(api_client, failure):
    from django.db import connections

    connections["default"].settings_dict["ATOMIC_REQUESTS"] = True
    try:
        response = api_client.post(f"/t/dropin/atomic/{failure}/")
    finally:
        connections["default"].settings_dict["ATOMIC_REQUESTS"] = False
    assert response.status_code == FAILURES[failure]
    assert not Thing.objects.exists()


def test_a_transaction_open_before_the_request_is_not_rolled_back(api_client):
    # A test's (or a caller's) own transaction is not the request's: it stays usable.
    from django.db import transaction

    with transaction.atomic():
        Thing.objects.create(name="before-the-request")
        response = api_client.post("/t/dropin/atomic/runtime/")
        assert response.status_code == 500
        assert list(Thing.objects.values_list("name", flat=True)) == ["before-the-request"]
    assert Thing.objects.filter(name="before-the-request").exists()

from __future__ import annotations

import re

import pytest
from rest_framework.exceptions import APIException

from apierrors import codes, exceptions
from apierrors.exceptions import ApiError, FieldProblem


def camel(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


@pytest.mark.parametrize("code", sorted(codes.CATALOGUE))
def test_one_class_per_code_named_after_it(code):
    entry = codes.CATALOGUE[code]
    cls = getattr(exceptions, camel(code))
    assert cls is exceptions.class_for_code(code)
    assert issubclass(cls, ApiError)
    assert issubclass(cls, APIException)
    error = cls()
    assert error.status_code == entry.status
    assert error.code == code
    assert error.message == str(entry.message)
    assert error.details == []
    assert error.retry_after is None


def test_message_details_retry_after_and_headers_are_kept():
    problem = FieldProblem("rules.all[1].operator", "INVALID_OPERATOR", "No 'gt' on strings.")
    error = exceptions.InvalidOperator(
        "Operator not supported.", details=[problem], retry_after=3, headers={"X-A": "b"}
    )
    assert error.message == "Operator not supported."
    assert error.details == [problem]
    assert error.retry_after == 3
    assert error.headers == {"X-A": "b"}
    assert problem.as_dict() == {
        "field": "rules.all[1].operator",
        "code": "INVALID_OPERATOR",
        "message": "No 'gt' on strings.",
    }


def test_rate_limit_message_names_the_wait():
    assert (
        exceptions.RateLimitExceeded(retry_after=60).message
        == "Too many requests. Please retry after 60 seconds."
    )
    assert exceptions.RateLimitExceeded(retry_after=1).message.endswith("after 1 second.")
    assert exceptions.RateLimitExceeded("Slow down.", retry_after=5).message == "Slow down."


def test_project_codes_by_subclassing():
    class QuotaExhausted(ApiError):
        status_code = 402
        default_code = "QUOTA_EXHAUSTED"
        default_detail = "Your plan's quota is used up."

    error = QuotaExhausted()
    assert (error.status_code, error.code, error.message) == (
        402,
        "QUOTA_EXHAUSTED",
        "Your plan's quota is used up.",
    )
    assert QuotaExhausted in exceptions.registered_classes()
    assert exceptions.status_for_code("QUOTA_EXHAUSTED") == 402


def test_subclass_of_a_catalogue_class_keeps_its_code():
    class CampaignLocked(exceptions.CampaignAlreadyActive):
        pass

    assert CampaignLocked().code == "CAMPAIGN_ALREADY_ACTIVE"
    assert CampaignLocked().status_code == 409


def test_status_for_unknown_code_is_none():
    assert exceptions.status_for_code("NO_SUCH_CODE") is None
    assert exceptions.status_for_code("TOKEN_EXPIRED") == 401


def test_class_for_code_refuses_unknown_codes():
    with pytest.raises(KeyError):
        exceptions.class_for_code("NO_SUCH_CODE")


def test_all_built_in_classes_are_exported_with_camel_names():
    names = {
        cls.__name__
        for cls in exceptions.registered_classes()
        if cls.__module__ == exceptions.__name__
    }
    assert {camel(code) for code in codes.CATALOGUE} <= names
    assert all(re.fullmatch(r"[A-Z][A-Za-z]+", name) for name in names)


def test_status_and_code_of_one_error():
    error = exceptions.ValidationError("Cannot parse.", status=400)
    assert (error.status_code, error.code, error.message) == (
        400,
        "VALIDATION_ERROR",
        "Cannot parse.",
    )
    assert exceptions.ValidationError.status_code == 422
    odd = exceptions.ValidationError("Too cheap.", code="TOO_CHEAP")
    assert (odd.status_code, odd.code) == (422, "TOO_CHEAP")
    assert exceptions.ValidationError.default_code == "VALIDATION_ERROR"


def test_one_lookup_finds_catalogue_then_project_classes():
    class Quota(ApiError):
        status_code = 402
        default_code = "QUOTA_OVER"
        default_detail = "Over."

    class NotFoundHere(exceptions.ResourceNotFound):
        pass

    assert exceptions.find_class("QUOTA_OVER") is Quota
    assert exceptions.class_for_code("QUOTA_OVER") is Quota
    assert exceptions.find_class("RESOURCE_NOT_FOUND") is exceptions.ResourceNotFound
    assert exceptions.find_class("NO_SUCH_CODE") is None


def test_default_message_hook():
    class Waiting(ApiError):
        status_code = 503
        default_code = "WAITING"
        default_detail = "Wait."

        def default_message(self):
            return f"Wait {self.retry_after} s." if self.retry_after else None

    assert Waiting(retry_after=3).message == "Wait 3 s."
    assert Waiting().message == "Wait."
    assert Waiting("Own.", retry_after=3).message == "Own."

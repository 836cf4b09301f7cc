from __future__ import annotations

import re
from pathlib import Path

from apierrors import codes

SEED_CODES = {
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "TOKEN_EXPIRED": 401,
    "INVALID_SCOPE": 403,
    "RESOURCE_NOT_FOUND": 404,
    "DUPLICATE_RESOURCE": 409,
    "RESOURCE_CONFLICT": 409,
    "VALIDATION_ERROR": 422,
    "INVALID_FIELD": 422,
    "MISSING_FIELD": 422,
    "INVALID_FORMAT": 422,
    "INVALID_SEGMENT_RULE": 422,
    "UNKNOWN_FIELD": 422,
    "INVALID_OPERATOR": 422,
    "CAMPAIGN_ALREADY_ACTIVE": 409,
    "CAMPAIGN_NOT_SCHEDULED": 409,
    "SEGMENT_REQUIRED": 422,
    "INVALID_SCHEDULE": 422,
    "CONNECTION_EXPIRED": 409,
    "PUBLISHING_FAILED": 502,
    "RATE_LIMIT_EXCEEDED": 429,
    "CONTENT_REJECTED": 422,
}
EXTRA_CODES = {
    "METHOD_NOT_ALLOWED": 405,
    "NOT_ACCEPTABLE": 406,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "BAD_REQUEST": 400,
    "PAYMENT_REQUIRED": 402,
    "GONE": 410,
    "PRECONDITION_FAILED": 412,
    "PAYLOAD_TOO_LARGE": 413,
    "LOCKED": 423,
    "PRECONDITION_REQUIRED": 428,
    "HTTP_ERROR": 400,  # nominal: sent with the status of the error it answers
    "SERVER_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}


def test_catalogue_has_exactly_the_contract_codes_and_statuses():
    assert {code: entry.status for code, entry in codes.CATALOGUE.items()} == {
        **SEED_CODES,
        **EXTRA_CODES,
    }


def test_codes_are_upper_snake_case_and_keyed_by_themselves():
    for key, entry in codes.CATALOGUE.items():
        assert key == entry.code == str(entry)
        assert re.fullmatch(r"[A-Z]+(_[A-Z]+)*", key)


def test_every_entry_has_a_message_sentence_and_a_description():
    for entry in codes.CATALOGUE.values():
        message = str(entry.message)
        assert message.endswith(".")
        assert message[0].isupper()
        assert entry.description


def test_module_constants_name_catalogue_entries():
    for code, entry in codes.CATALOGUE.items():
        assert getattr(codes, code) is entry


def test_families_group_the_seed_headings():
    assert codes.TOKEN_EXPIRED.family is codes.Family.AUTHENTICATION
    assert codes.UNKNOWN_FIELD.family is codes.Family.SEGMENT
    assert codes.CONTENT_REJECTED.family is codes.Family.SOCIAL
    assert codes.SERVER_ERROR.family is codes.Family.SERVER


def test_readme_catalogue_table_matches_the_code():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = re.findall(r"^\| `([A-Z_]+)` \| (\d{3}|any) \|", readme, flags=re.MULTILINE)
    assert dict(rows) == {
        code: "any" if entry.any_status else str(entry.status)
        for code, entry in codes.CATALOGUE.items()
    }


# What answers an error of a status that names no code (another package's exception, a
# Django error page): the entry standing for the status, else HTTP_ERROR with that status.
STANDING_FOR_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "RESOURCE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "RESOURCE_CONFLICT",
    402: "PAYMENT_REQUIRED",
    410: "GONE",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    418: "HTTP_ERROR",
    422: "VALIDATION_ERROR",
    423: "LOCKED",
    428: "PRECONDITION_REQUIRED",
    451: "HTTP_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
    500: "SERVER_ERROR",
    502: "HTTP_ERROR",
    503: "SERVICE_UNAVAILABLE",
    504: "HTTP_ERROR",
}


def test_only_http_error_is_sent_with_any_status():
    assert [entry.code for entry in codes.CATALOGUE.values() if entry.any_status] == ["HTTP_ERROR"]


def test_entry_for_status():
    assert {status: codes.entry_for_status(status).code for status in STANDING_FOR_STATUS} == (
        STANDING_FOR_STATUS
    )


def test_at_most_one_entry_stands_for_a_status():
    standing = [entry.status for entry in codes.CATALOGUE.values() if entry.stands_for_status]
    assert len(standing) == len(set(standing))


def test_catalogue_is_every_constant_in_definition_order():
    constants = [value for value in vars(codes).values() if isinstance(value, codes.ErrorCode)]
    assert list(codes.CATALOGUE.values()) == constants
    assert list(codes.CATALOGUE)[:2] == ["UNAUTHORIZED", "FORBIDDEN"]

"""System checks. Ids are stable and never reused; the docs list each with its fix.

| id | problem |
| --- | --- |
| apierrors.E001 | ``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` is DRF's default or unset |
| apierrors.W001 | ``EXCEPTION_HANDLER`` is some other callable (make sure it delegates) |
| apierrors.E002 | ``APIErrorsMiddleware`` is not in ``MIDDLEWARE`` |
| apierrors.E003 | ``APIERRORS`` is not a dict |
| apierrors.E004 | ``APIERRORS`` holds a key apierrors does not know |
| apierrors.E005 | an ``APIERRORS`` value has the wrong type or cannot be used |
| apierrors.E006 | two exception classes claim one code with different statuses |
| apierrors.W002 | the first authentication class sends no ``WWW-Authenticate`` |
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from apierrors.conf import DEFAULTS
from apierrors.exceptions import registered_classes

HANDLER_PATH = "apierrors.handler.exception_handler"
MIDDLEWARE_PATH = "apierrors.middleware.APIErrorsMiddleware"
DRF_DEFAULT_HANDLER = "rest_framework.views.exception_handler"

CheckResult = list[checks.CheckMessage]


def check_exception_handler(**kwargs: Any) -> CheckResult:
    rest = getattr(settings, "REST_FRAMEWORK", None) or {}
    path = rest.get("EXCEPTION_HANDLER", DRF_DEFAULT_HANDLER)
    if path == HANDLER_PATH:
        return []
    if path == DRF_DEFAULT_HANDLER:
        return [
            checks.Error(
                "DRF's default exception handler is in use, so DRF errors are not enveloped.",
                hint=f'Set REST_FRAMEWORK["EXCEPTION_HANDLER"] = "{HANDLER_PATH}".',
                id="apierrors.E001",
            )
        ]
    return [
        checks.Warning(
            f'REST_FRAMEWORK["EXCEPTION_HANDLER"] is {path!r}, not apierrors\'s handler.',
            hint=f"Make sure it delegates to {HANDLER_PATH}.",
            id="apierrors.W001",
        )
    ]


def check_middleware(**kwargs: Any) -> CheckResult:
    middleware = getattr(settings, "MIDDLEWARE", None) or []
    for path in middleware:
        if path == MIDDLEWARE_PATH:
            return []
        try:
            cls = import_string(path)
        except ImportError:
            continue
        from apierrors.middleware import APIErrorsMiddleware

        if isinstance(cls, type) and issubclass(cls, APIErrorsMiddleware):
            return []
    return [
        checks.Error(
            "APIErrorsMiddleware is not installed: no request ids, no rate-limit headers, "
            "and Django's own error pages are not enveloped.",
            hint=f'Add "{MIDDLEWARE_PATH}" first in MIDDLEWARE.',
            id="apierrors.E002",
        )
    ]


def _is_str_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_regex_list(value: object) -> bool:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return False
    try:
        for pattern in value:
            re.compile(pattern)
    except (re.error, TypeError):
        return False
    return True


def _is_importable(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        import_string(value)
    except ImportError:
        return False
    return True


def _is_non_negative_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_non_negative_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


# One validator per key; a key missing here is accepted as any value.
VALIDATORS: dict[str, tuple[Callable[[object], bool], str]] = {
    "DOCS_URL": (_is_str_or_none, "a URL string or None"),
    "CAMELIZE_FIELDS": (lambda v: v is None or isinstance(v, bool), "True, False or None"),
    "FIELD_CODES": (
        lambda v: isinstance(v, Mapping) and all(isinstance(x, str) for x in v.values()),
        "a dict of DRF codes to catalogue codes",
    ),
    "EXCEPTION_HANDLER_CLASS": (_is_importable, "the dotted path of an ExceptionHandler class"),
    "PROBLEM_DETAILS": (lambda v: isinstance(v, bool), "True or False"),
    "EXCLUDE_PATHS": (_is_regex_list, "a list of regular expressions"),
    "REQUEST_ID_HEADER": (
        lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9-]+", v) is not None,
        "an HTTP header name",
    ),
    "ACCEPT_REQUEST_ID": (lambda v: isinstance(v, bool), "True or False"),
    "REJECT_UNKNOWN_FIELDS": (lambda v: isinstance(v, bool), "True or False"),
    "THROTTLE_CACHE": (lambda v: isinstance(v, str), "a cache alias"),
    "THROTTLE_KEY_PREFIX": (lambda v: isinstance(v, str), "a string"),
    "FAIL_OPEN": (lambda v: isinstance(v, bool), "True or False"),
    "NUM_PROXIES": (lambda v: v is None or _is_non_negative_int(v), "None or an int >= 0"),
    "IPV6_PREFIX": (lambda v: _is_non_negative_int(v) and int(str(v)) <= 128, "0 to 128"),
    "RATELIMIT_HEADERS": (lambda v: isinstance(v, bool), "True or False"),
    "IETF_RATELIMIT_HEADERS": (lambda v: isinstance(v, bool), "True or False"),
    "OUTAGE_LOG_INTERVAL": (_is_non_negative_number, "seconds, >= 0"),
    "BREAKER_FAILURES": (_is_non_negative_int, "an int >= 0"),
    "BREAKER_COOLDOWN": (_is_non_negative_number, "seconds, >= 0"),
}


def check_settings(**kwargs: Any) -> CheckResult:
    value = getattr(settings, "APIERRORS", None)
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [
            checks.Error(
                f"APIERRORS must be a dict, not {type(value).__name__}.",
                id="apierrors.E003",
            )
        ]
    messages: CheckResult = []
    for key, item in value.items():
        if key not in DEFAULTS:
            messages.append(
                checks.Error(
                    f"APIERRORS has an unknown key {key!r}.",
                    hint="Known keys: " + ", ".join(sorted(DEFAULTS)) + ".",
                    id="apierrors.E004",
                )
            )
            continue
        validator = VALIDATORS.get(key)
        if validator is not None and not validator[0](item):
            messages.append(
                checks.Error(
                    f"APIERRORS[{key!r}] is {item!r}; it must be {validator[1]}.",
                    id="apierrors.E005",
                )
            )
    return messages


def check_duplicate_codes(**kwargs: Any) -> CheckResult:
    statuses: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for cls in registered_classes():
        statuses[str(cls.default_code)][int(cls.status_code)].append(
            f"{cls.__module__}.{cls.__qualname__}"
        )
    messages: CheckResult = []
    for code, by_status in sorted(statuses.items()):
        if len(by_status) > 1:
            claims = "; ".join(
                f"{status}: {', '.join(names)}" for status, names in sorted(by_status.items())
            )
            messages.append(
                checks.Error(
                    f"Code {code} is claimed with different statuses ({claims}).",
                    hint="One code has one status; give the other class a code of its own.",
                    id="apierrors.E006",
                )
            )
    return messages


def check_authenticate_header(**kwargs: Any) -> CheckResult:
    rest = getattr(settings, "REST_FRAMEWORK", None) or {}
    classes = rest.get("DEFAULT_AUTHENTICATION_CLASSES")
    if not classes:
        return []
    try:
        first = import_string(classes[0]) if isinstance(classes[0], str) else classes[0]
    except ImportError:
        return []
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().get("/"))
    if first().authenticate_header(request):
        return []
    return [
        checks.Warning(
            f"{classes[0]} sends no WWW-Authenticate header, so DRF would answer 403 to "
            "unauthenticated requests; apierrors answers 401 UNAUTHORIZED without the header.",
            hint="List an authentication class with authenticate_header() first "
            "(TokenAuthentication, JWTAuthentication, BasicAuthentication).",
            id="apierrors.W002",
        )
    ]


def register() -> None:
    for check in (
        check_exception_handler,
        check_middleware,
        check_settings,
        check_duplicate_codes,
        check_authenticate_header,
    ):
        checks.register(check)

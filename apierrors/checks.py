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
| apierrors.W003 | DRF's ``JSONParser`` answers deeply nested bodies with a 500 |
| apierrors.E101 | a throttle rate does not parse |
| apierrors.E102 | a throttle's cache alias is not in ``CACHES`` |
| apierrors.E103 | a throttle's ``algorithm`` or ``burst`` is not valid |
| apierrors.E104 | a throttle's scope has no rate in ``DEFAULT_THROTTLE_RATES`` |
| apierrors.W101 | a throttle cache is not shared between processes (LocMem, dummy) outside DEBUG |
| apierrors.W102 | a throttle cache backend cannot check atomically across processes |
| apierrors.W103 | rate-limit headers are on but ``APIErrorsMiddleware`` is not installed |
| apierrors.W104 | a django-redis throttle cache has no socket timeouts |

The throttle checks look at the throttles a project uses: ``DEFAULT_THROTTLE_CLASSES`` and
the ``throttle_classes`` of every view in the URLconf (a view that builds its throttles in
``get_throttles()`` is not seen).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from apierrors.conf import DEFAULTS, conf
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


def _algorithm_names() -> list[str]:
    from apierrors.ratelimit.algorithms import ALGORITHMS

    return sorted(ALGORITHMS)


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
    "THROTTLE_ALGORITHM": (
        lambda v: v in _algorithm_names(),
        "one of " + ", ".join(repr(name) for name in _algorithm_names()),
    ),
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


DRF_JSON_PARSER = "rest_framework.parsers.JSONParser"


def check_json_parser(**kwargs: Any) -> CheckResult:
    rest = getattr(settings, "REST_FRAMEWORK", None) or {}
    parsers = rest.get("DEFAULT_PARSER_CLASSES")
    if parsers is None:
        parsers = [DRF_JSON_PARSER]  # DRF's default list starts with it
    if DRF_JSON_PARSER not in parsers:
        return []
    return [
        checks.Warning(
            "DRF's JSONParser lets a body nested deeper than Python's recursion limit "
            "raise RecursionError, which answers 500.",
            hint='Use "apierrors.parsers.JSONParser" in DEFAULT_PARSER_CLASSES instead.',
            id="apierrors.W003",
        )
    ]


# Throttling ------------------------------------------------------------------------------

LOCMEM_BACKEND = "django.core.cache.backends.locmem.LocMemCache"
DUMMY_BACKEND = "django.core.cache.backends.dummy.DummyCache"
DJANGO_REDIS_BACKEND = "django_redis.cache.RedisCache"


def _view_classes(patterns: Sequence[Any]) -> list[type]:
    found: list[type] = []
    for pattern in patterns:
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            found += _view_classes(nested)
            continue
        callback = getattr(pattern, "callback", None)
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if isinstance(cls, type):
            found.append(cls)
    return found


def throttles_in_use() -> list[tuple[type, type | None]]:
    """``(throttle class, view class)`` for the apierrors throttles the project uses (the
    view is ``None`` for ``DEFAULT_THROTTLE_CLASSES``)."""
    from django.urls import get_resolver
    from rest_framework.settings import api_settings

    from apierrors.throttling import RateLimitThrottle

    found: list[tuple[Any, type | None]] = [
        (cls, None) for cls in api_settings.DEFAULT_THROTTLE_CLASSES
    ]
    try:
        views = _view_classes(get_resolver().url_patterns)
    except Exception:  # a broken URLconf is reported by Django's own checks
        views = []
    for view in dict.fromkeys(views):
        found += [(cls, view) for cls in getattr(view, "throttle_classes", None) or ()]
    return [
        (cls, view)
        for cls, view in dict.fromkeys(found)
        if isinstance(cls, type) and issubclass(cls, RateLimitThrottle)
    ]


def _throttle_rates(cls: type, view: type | None) -> tuple[str, list[object]]:
    """Where a throttle's rates come from (for messages) and the rates found there; raises
    ``KeyError`` with the scope when its rate is missing."""
    from rest_framework.settings import api_settings

    from apierrors.throttling import ScopedRateLimitThrottle

    own = getattr(cls, "rates", None) or getattr(cls, "rate", None)
    if own:
        return f"{cls.__qualname__}.rate", _as_list(own)
    scope = getattr(cls, "scope", None)
    if issubclass(cls, ScopedRateLimitThrottle):
        scope = getattr(view, cls.scope_attr, None) if view is not None else None
    if not scope:
        return "", []
    configured = api_settings.DEFAULT_THROTTLE_RATES
    if scope not in configured:
        raise KeyError(scope)
    value = configured[scope]
    if value is None:
        return "", []
    return f'DEFAULT_THROTTLE_RATES["{scope}"]', _as_list(value)


def _as_list(value: object) -> list[object]:
    """One rate, or several in a list or tuple, as a list."""
    return list(value) if isinstance(value, list | tuple) else [value]


def _is_burst(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


def check_throttle_rates(**kwargs: Any) -> CheckResult:
    from rest_framework.settings import api_settings

    from apierrors.ratelimit.rates import RateError, parse_rate

    used = throttles_in_use()
    if not used:
        return []
    messages: CheckResult = []
    # Any scope may be read by a throttle that builds its rates at run time.
    sources: dict[str, list[object]] = {}
    for scope, value in api_settings.DEFAULT_THROTTLE_RATES.items():
        if value is not None:
            where = f'DEFAULT_THROTTLE_RATES["{scope}"]'
            sources[where] = _as_list(value)
    for cls, view in used:
        name = cls.__qualname__ + (f" on {view.__qualname__}" if view is not None else "")
        try:
            where, rates = _throttle_rates(cls, view)
        except KeyError as missing:
            messages.append(
                checks.Error(
                    f"Throttle {name} uses the scope {missing}, which has no rate.",
                    hint=f"Add {missing} to REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'].",
                    id="apierrors.E104",
                )
            )
            continue
        if where:
            sources.setdefault(where, rates)
        algorithm = getattr(cls, "algorithm", None)
        if algorithm is not None and algorithm not in _algorithm_names():
            messages.append(
                checks.Error(
                    f"Throttle {name} names the unknown algorithm {algorithm!r}.",
                    hint="Use one of " + ", ".join(_algorithm_names()) + ".",
                    id="apierrors.E103",
                )
            )
        burst = getattr(cls, "burst", None)
        if not _is_burst(burst):
            messages.append(
                checks.Error(
                    f"Throttle {name} has burst = {burst!r}; it must be an int >= 1 or None.",
                    id="apierrors.E103",
                )
            )
    for where, rates in sources.items():
        for rate in rates:
            try:
                parse_rate(rate)
            except RateError as error:
                messages.append(checks.Error(f"{where}: {error}", id="apierrors.E101"))
    return messages


def check_throttle_caches(**kwargs: Any) -> CheckResult:
    used = throttles_in_use()
    if not used:
        return []
    caches = getattr(settings, "CACHES", None) or {}
    aliases = dict.fromkeys(
        getattr(cls, "cache_alias", None) or conf.THROTTLE_CACHE for cls, _view in used
    )
    messages: CheckResult = []
    for alias in aliases:
        config = caches.get(alias)
        if config is None:
            messages.append(
                checks.Error(
                    f"The throttles' cache {alias!r} is not in CACHES.",
                    hint="Add it to CACHES, or point APIERRORS['THROTTLE_CACHE'] at one.",
                    id="apierrors.E102",
                )
            )
            continue
        messages += _check_throttle_backend(alias, config)
    return messages


def _check_throttle_backend(alias: str, config: Mapping[str, Any]) -> CheckResult:
    backend = str(config.get("BACKEND", ""))
    if backend in (LOCMEM_BACKEND, DUMMY_BACKEND):
        if settings.DEBUG:
            return []
        what = "keeps nothing" if backend == DUMMY_BACKEND else "is private to each process"
        return [
            checks.Warning(
                f"The throttles' cache {alias!r} ({backend.rsplit('.', 1)[-1]}) {what}: "
                "with several worker processes, the limits do not hold.",
                hint="Use a django-redis cache for the throttles (APIERRORS['THROTTLE_CACHE']).",
                id="apierrors.W101",
            )
        ]
    if backend != DJANGO_REDIS_BACKEND:
        return [
            checks.Warning(
                f"The throttles' cache {alias!r} ({backend}) cannot run a check atomically "
                "across processes: concurrent requests can exceed the limits.",
                hint="Use a django-redis cache for the throttles (APIERRORS['THROTTLE_CACHE']).",
                id="apierrors.W102",
            )
        ]
    options = config.get("OPTIONS") or {}
    missing = [
        name for name in ("SOCKET_CONNECT_TIMEOUT", "SOCKET_TIMEOUT") if not options.get(name)
    ]
    if not missing:
        return []
    return [
        checks.Warning(
            f"The throttles' cache {alias!r} sets no {' or '.join(missing)}: while Redis "
            "hangs, each request waits for the operating system's timeout before the "
            "outage policy applies.",
            hint='Set short ones in its OPTIONS, e.g. "SOCKET_CONNECT_TIMEOUT": 0.25, '
            '"SOCKET_TIMEOUT": 0.25.',
            id="apierrors.W104",
        )
    ]


def check_rate_limit_headers(**kwargs: Any) -> CheckResult:
    if not (conf.RATELIMIT_HEADERS or conf.IETF_RATELIMIT_HEADERS):
        return []
    if not check_middleware() or not throttles_in_use():
        return []
    return [
        checks.Warning(
            "Rate-limit headers are on, but APIErrorsMiddleware, which sends them, is not "
            "installed: responses carry no X-RateLimit-* headers.",
            hint=f'Add "{MIDDLEWARE_PATH}" first in MIDDLEWARE.',
            id="apierrors.W103",
        )
    ]


def register() -> None:
    for check in (
        check_exception_handler,
        check_middleware,
        check_settings,
        check_duplicate_codes,
        check_authenticate_header,
        check_json_parser,
        check_throttle_rates,
        check_throttle_caches,
        check_rate_limit_headers,
    ):
        checks.register(check)

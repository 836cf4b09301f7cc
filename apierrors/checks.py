"""System checks of the foundation: the handler, the middleware, ``APIERRORS``, the codes.

Ids are stable and never reused; docs/checks.md lists each with its fix. The throttle
checks (``apierrors.E1xx``/``W1xx``) live in ``apierrors.ratelimit.checks``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from apierrors.conf import conf
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


def _is_apierrors_middleware(path: object) -> bool:
    """Whether a ``MIDDLEWARE`` entry is ``APIErrorsMiddleware`` or a subclass of it."""
    if path == MIDDLEWARE_PATH:
        return True
    if not isinstance(path, str):
        return False
    try:
        cls = import_string(path)
    except ImportError:
        return False
    from apierrors.middleware import APIErrorsMiddleware

    return isinstance(cls, type) and issubclass(cls, APIErrorsMiddleware)


def middleware_position() -> int | None:
    """The index of ``APIErrorsMiddleware`` (or a subclass) in ``MIDDLEWARE``, if there."""
    middleware = getattr(settings, "MIDDLEWARE", None) or []
    for index, path in enumerate(middleware):
        if _is_apierrors_middleware(path):
            return index
    return None


def check_middleware(**kwargs: Any) -> CheckResult:
    if middleware_position() is not None:
        return []
    return [
        checks.Error(
            "APIErrorsMiddleware is not installed: no request ids, no rate-limit headers, "
            "and Django's own error pages are not enveloped.",
            hint=f'Add "{MIDDLEWARE_PATH}" first in MIDDLEWARE.',
            id="apierrors.E002",
        )
    ]


# Middleware that never answer an error themselves, so they may sit before
# APIErrorsMiddleware: they redirect to HTTPS, add headers, compress, answer CORS preflights
# or serve static files, and pass everything else on.
MAY_PRECEDE_MIDDLEWARE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.gzip.GZipMiddleware",
        "django.middleware.http.ConditionalGetMiddleware",
        "corsheaders.middleware.CorsMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    }
)


def check_middleware_order(**kwargs: Any) -> CheckResult:
    position = middleware_position()
    if position is None:
        return []  # apierrors.E002
    before = [
        str(path)
        for path in (getattr(settings, "MIDDLEWARE", None) or [])[:position]
        if path not in MAY_PRECEDE_MIDDLEWARE
    ]
    if not before:
        return []
    return [
        checks.Warning(
            f"APIErrorsMiddleware comes after {', '.join(before)} in MIDDLEWARE: the errors "
            "those answer themselves (an exception they raise, CommonMiddleware's 403 for "
            "DISALLOWED_USER_AGENTS) are not enveloped and carry no request id.",
            hint=f'Put "{MIDDLEWARE_PATH}" first in MIDDLEWARE (only middleware that never '
            "answer an error, such as SecurityMiddleware, GZipMiddleware or CorsMiddleware, "
            "may come before it).",
            id="apierrors.W004",
        )
    ]


def check_settings(**kwargs: Any) -> CheckResult:
    messages: CheckResult = []
    for problem in conf.problems():
        if problem.kind == "not_a_dict":
            messages.append(checks.Error(problem.message, hint=problem.hint, id="apierrors.E003"))
        elif problem.kind == "unknown_key":
            messages.append(checks.Error(problem.message, hint=problem.hint, id="apierrors.E004"))
        else:
            messages.append(checks.Error(problem.message, hint=problem.hint, id="apierrors.E005"))
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


def _sends_challenge(authenticator: object) -> bool:
    """Whether an authentication class answers ``authenticate_header`` (DRF then sends 401
    with ``WWW-Authenticate``; without one, DRF's rule is 403)."""
    if isinstance(authenticator, str):
        try:
            authenticator = import_string(authenticator)
        except ImportError:
            return True  # not this check's concern
    if not isinstance(authenticator, type):
        return True
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    try:
        return bool(authenticator().authenticate_header(Request(APIRequestFactory().get("/"))))
    except Exception:  # an authenticator that needs more than a bare request: assume it does
        return True


def _class_name(authenticator: object) -> str:
    if isinstance(authenticator, type):
        return f"{authenticator.__module__}.{authenticator.__qualname__}"
    return str(authenticator)


def drf_views(patterns: Any = None, prefix: str = "") -> list[tuple[str, type]]:
    """Every DRF view class the root URLconf routes to, with its route."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework.views import APIView

    found: list[tuple[str, type]] = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += drf_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            cls = getattr(pattern.callback, "cls", None)
            if isinstance(cls, type) and issubclass(cls, APIView):
                found.append((route, cls))
    return found


def _refuses_anonymous(view: type) -> bool:
    from rest_framework.permissions import AllowAny

    permissions = list(getattr(view, "permission_classes", None) or [])
    return bool(permissions) and not all(
        isinstance(permission, type) and issubclass(permission, AllowAny)
        for permission in permissions
    )


def check_authenticate_header(**kwargs: Any) -> CheckResult:
    """W002: where the first authentication class sends no challenge, DRF's rule answers a
    refused anonymous request 403 FORBIDDEN, never 401 UNAUTHORIZED (a 401 must carry
    ``WWW-Authenticate``). Looks at ``DEFAULT_AUTHENTICATION_CLASSES`` (DRF's default,
    SessionAuthentication first, when unset) and at every DRF view the URLconf routes to."""
    from rest_framework.settings import DEFAULTS as DRF_DEFAULTS

    rest = getattr(settings, "REST_FRAMEWORK", None) or {}
    default = rest.get("DEFAULT_AUTHENTICATION_CLASSES")
    if default is None:
        default = DRF_DEFAULTS["DEFAULT_AUTHENTICATION_CLASSES"]
    where: dict[str, list[str]] = defaultdict(list)
    if default and not _sends_challenge(default[0]):
        where[_class_name(default[0])].append("DEFAULT_AUTHENTICATION_CLASSES")
    try:
        views = drf_views()
    except Exception:  # an URLconf that does not import is Django's own check's concern
        views = []
    for route, view in views:
        classes = list(getattr(view, "authentication_classes", None) or [])
        if classes and _refuses_anonymous(view) and not _sends_challenge(classes[0]):
            where[_class_name(classes[0])].append(f"{view.__qualname__} ({route})")
    messages: CheckResult = []
    for name, places in sorted(where.items()):
        shown = ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")
        messages.append(
            checks.Warning(
                f"{name} is the first authentication class of {shown} and sends no "
                "WWW-Authenticate challenge, so a refused anonymous request is answered "
                "403 FORBIDDEN (DRF's rule), never 401 UNAUTHORIZED.",
                hint="For 401 UNAUTHORIZED, list an authentication class with "
                "authenticate_header() first (JWTAuthentication, TokenAuthentication, "
                "BasicAuthentication); if 403 is what you want, silence apierrors.W002.",
                id="apierrors.W002",
            )
        )
    return messages


DRF_JSON_PARSER = "rest_framework.parsers.JSONParser"
JSON_PARSER = "apierrors.parsers.JSONParser"


def check_json_parser(**kwargs: Any) -> CheckResult:
    rest = getattr(settings, "REST_FRAMEWORK", None) or {}
    parsers = rest.get("DEFAULT_PARSER_CLASSES")
    if parsers is None:
        from rest_framework.settings import DEFAULTS as DRF_DEFAULTS

        parsers = DRF_DEFAULTS["DEFAULT_PARSER_CLASSES"]
    if DRF_JSON_PARSER not in parsers:
        return []
    # The same list with one parser swapped, so form and multipart bodies stay accepted.
    suggested = [JSON_PARSER if path == DRF_JSON_PARSER else path for path in parsers]
    listed = ", ".join(f'"{path}"' for path in suggested)
    return [
        checks.Warning(
            "DRF's JSONParser lets a body nested deeper than Python's recursion limit "
            "raise RecursionError, which answers 500.",
            hint=f'Use "{JSON_PARSER}" in its place: DEFAULT_PARSER_CLASSES = [{listed}].',
            id="apierrors.W003",
        )
    ]


def register() -> None:
    for check in (
        check_exception_handler,
        check_middleware,
        check_middleware_order,
        check_settings,
        check_duplicate_codes,
        check_authenticate_header,
        check_json_parser,
    ):
        checks.register(check)


# The throttle checks moved to apierrors.ratelimit.checks; their old names here keep
# working for one release.
_MOVED_TO_RATELIMIT = frozenset(
    {
        "throttles_in_use",
        "check_throttle_rates",
        "check_throttle_caches",
        "check_rate_limit_headers",
    }
)


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_RATELIMIT:
        import warnings

        from apierrors.ratelimit import checks as ratelimit_checks

        warnings.warn(
            f"apierrors.checks.{name} moved to apierrors.ratelimit.checks.{name}.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(ratelimit_checks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The only module that reads ``settings.APIERRORS``.

Every setting lives in that one dict. ``SETTINGS`` is the table of its keys: each key's
section, default, validation and meaning stand together there (docs/settings.md shows the
same table, and a test keeps the two in agreement). ``conf`` exposes each key as a typed
property read on every access, so ``override_settings`` and pytest-django's ``settings``
fixture reach it; ``conf.problems()`` validates the whole dict for the system checks.

The error path reads its keys from ``envelope_settings()`` instead: a snapshot taken
through ``conf`` once and kept until Django's ``setting_changed`` signal (which both of those
send) says ``APIERRORS`` or ``REST_FRAMEWORK`` changed, as ``apierrors.ratelimit.config``
does for the throttles. Reading a key through ``conf`` costs about a microsecond (Django's
lazy settings object and the dict lookups), and an error response would read eight.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

Validator = Callable[[object], "str | None"]
"""Gives ``None`` for a usable value, else what the value must be (for the message)."""


@dataclass(frozen=True)
class Setting:
    """One key of ``APIERRORS``."""

    section: str
    name: str
    default: object
    validate: Validator
    doc: str
    """Its meaning, as docs/settings.md says it."""


def _rule(test: Callable[[object], bool], expected: str) -> Validator:
    return lambda value: None if test(value) else expected


def _non_negative_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _non_negative_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _regex_list(value: object) -> bool:
    if isinstance(value, str) or not isinstance(value, Sequence):
        return False
    try:
        for pattern in value:
            re.compile(pattern)
    except (re.error, TypeError):
        return False
    return True


def _importable(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        import_string(value)
    except ImportError:
        return False
    return True


def _algorithm(value: object) -> str | None:
    from apierrors.ratelimit.algorithms import ALGORITHMS

    if isinstance(value, str) and value in ALGORITHMS:
        return None
    return "one of " + ", ".join(repr(name) for name in sorted(ALGORITHMS))


_bool = _rule(lambda value: isinstance(value, bool), "True or False")
_str = _rule(lambda value: isinstance(value, str), "a string")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "Envelope",
        "DOCS_URL",
        None,
        _rule(lambda value: value is None or isinstance(value, str), "a URL string or None"),
        "base URL of the catalogue page; each envelope then carries `docUrl` = "
        "`DOCS_URL#resource-not-found`",
    ),
    Setting(
        "Envelope",
        "CAMELIZE_FIELDS",
        None,
        _rule(lambda value: value is None or isinstance(value, bool), "True, False or None"),
        "camelCase `details[].field` paths; `None` detects djangorestframework-camel-case",
    ),
    Setting(
        "Envelope",
        "FIELD_CODES",
        {},
        _rule(
            lambda value: (
                isinstance(value, Mapping) and all(isinstance(code, str) for code in value.values())
            ),
            "a dict of DRF codes to catalogue codes",
        ),
        "extra DRF validation codes mapped onto catalogue codes",
    ),
    Setting(
        "Envelope",
        "EXCEPTION_HANDLER_CLASS",
        "apierrors.handler.ExceptionHandler",
        _rule(_importable, "the dotted path of an ExceptionHandler class"),
        "the handler class `exception_handler` uses",
    ),
    Setting(
        "Envelope",
        "PROBLEM_DETAILS",
        False,
        _bool,
        "answer `application/problem+json` (RFC 9457) to clients that ask for it",
    ),
    Setting(
        "Envelope",
        "EXCLUDE_PATHS",
        (),
        _rule(_regex_list, "a list of regular expressions"),
        'path regexes whose non-DRF error pages the middleware leaves alone (`r"^/admin/"`)',
    ),
    Setting(
        "Request ids",
        "REQUEST_ID_HEADER",
        "X-Request-ID",
        _rule(
            lambda value: (
                isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9-]+", value) is not None
            ),
            "an HTTP header name",
        ),
        "the header read and sent",
    ),
    Setting(
        "Request ids",
        "ACCEPT_REQUEST_ID",
        True,
        _bool,
        "keep a valid incoming id; `False` always generates",
    ),
    Setting(
        "Serializers",
        "REJECT_UNKNOWN_FIELDS",
        False,
        _bool,
        "every serializer answers undeclared body fields as INVALID_FIELD (read at start-up)",
    ),
    Setting(
        "Throttling",
        "THROTTLE_CACHE",
        "default",
        _rule(lambda value: isinstance(value, str), "a cache alias"),
        "the cache alias whose store the throttles use",
    ),
    Setting(
        "Throttling",
        "THROTTLE_STORE",
        None,
        _rule(
            lambda value: value is None or (isinstance(value, str) and "://" in value),
            'None or a store URI ("redis://host:6379/0")',
        ),
        "a store URI (`redis://`, `rediss://`, `redis+sentinel://`...) the throttles use "
        "instead of `THROTTLE_CACHE`'s store",
    ),
    Setting(
        "Throttling",
        "THROTTLE_STORE_TIMEOUT",
        0.25,
        _rule(
            lambda value: value is None or (_non_negative_number(value) and value != 0),
            "seconds, > 0, or None",
        ),
        "socket timeouts (seconds) of the Redis stores' own connections; `None` keeps the cache's",
    ),
    Setting(
        "Throttling",
        "THROTTLE_ALGORITHM",
        "fixed_window",
        _algorithm,
        "the algorithm of throttles that do not name one",
    ),
    Setting(
        "Throttling",
        "THROTTLE_KEY_PREFIX",
        "rl",
        _str,
        "prefix of every throttle key in the store",
    ),
    Setting(
        "Throttling",
        "FAIL_OPEN",
        True,
        _bool,
        "on a store outage let requests through (`False`: 503 SERVICE_UNAVAILABLE)",
    ),
    Setting(
        "Throttling",
        "NUM_PROXIES",
        None,
        _rule(lambda value: value is None or _non_negative_int(value), "None or an int >= 0"),
        "how many proxies in front of the app to trust in `X-Forwarded-For`; `None` ignores "
        "the header; when the key is absent, DRF's `NUM_PROXIES` applies",
    ),
    Setting(
        "Throttling",
        "IPV6_PREFIX",
        64,
        _rule(lambda value: _non_negative_int(value) and cast(int, value) <= 128, "0 to 128"),
        "anonymous IPv6 clients are grouped by this prefix length",
    ),
    Setting(
        "Throttling",
        "RATELIMIT_HEADERS",
        True,
        _bool,
        "send `X-RateLimit-Limit/Remaining/Reset`",
    ),
    Setting(
        "Throttling",
        "IETF_RATELIMIT_HEADERS",
        False,
        _bool,
        "also send the IETF draft's `RateLimit` and `RateLimit-Policy`",
    ),
    Setting(
        "Throttling",
        "OUTAGE_LOG_INTERVAL",
        60,
        _rule(_non_negative_number, "seconds, >= 0"),
        "seconds between two warnings about the same store outage",
    ),
    Setting(
        "Throttling",
        "BREAKER_FAILURES",
        3,
        _rule(_non_negative_int, "an int >= 0"),
        "consecutive store errors that open the circuit breaker",
    ),
    Setting(
        "Throttling",
        "BREAKER_COOLDOWN",
        5.0,
        _rule(_non_negative_number, "seconds, >= 0"),
        "seconds the breaker stays open before one request tries the store again",
    ),
    Setting(
        "Throttling",
        "REMEMBER_DENIALS",
        True,
        _bool,
        "each process answers a refused client from memory until the refusal's reset, "
        "without a store round trip (shared stores)",
    ),
)

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


@dataclass(frozen=True)
class Problem:
    """What is wrong with ``APIERRORS``: not a dict, an unknown key, or an unusable value."""

    kind: Literal["not_a_dict", "unknown_key", "bad_value"]
    message: str
    hint: str | None = None
    key: str | None = None


class Settings:
    """Typed, read-on-access view of ``settings.APIERRORS``; the keys are in ``SETTINGS``."""

    def get(self, key: str) -> Any:
        user = _raw() or {}
        if key in user:
            return user[key]
        return DEFAULTS[key]

    def user_settings(self) -> Mapping[str, Any]:
        value = _raw()
        return cast(Mapping[str, Any], value) if value is not None else {}

    def problems(self) -> list[Problem]:
        """Everything wrong with ``APIERRORS``, validated against ``SETTINGS``."""
        value = _raw()
        if value is None:
            return []
        if not isinstance(value, Mapping):
            return [Problem("not_a_dict", f"APIERRORS must be a dict, not {type(value).__name__}.")]
        found: list[Problem] = []
        for key, item in value.items():
            setting = BY_NAME.get(key)
            if setting is None:
                found.append(
                    Problem(
                        "unknown_key",
                        f"APIERRORS has an unknown key {key!r}.",
                        hint="Known keys: " + ", ".join(sorted(BY_NAME)) + ".",
                        key=key,
                    )
                )
                continue
            expected = setting.validate(item)
            if expected is not None:
                found.append(
                    Problem(
                        "bad_value",
                        f"APIERRORS[{key!r}] is {item!r}; it must be {expected}.",
                        key=key,
                    )
                )
        return found

    @property
    def DOCS_URL(self) -> str | None:
        return cast("str | None", self.get("DOCS_URL"))

    @property
    def CAMELIZE_FIELDS(self) -> bool:
        value = self.get("CAMELIZE_FIELDS")
        if value is None:
            return _camel_case_package_in_use()
        return bool(value)

    @property
    def FIELD_CODES(self) -> Mapping[str, str]:
        return cast(Mapping[str, str], self.get("FIELD_CODES"))

    @property
    def EXCEPTION_HANDLER_CLASS(self) -> str:
        return cast(str, self.get("EXCEPTION_HANDLER_CLASS"))

    @property
    def PROBLEM_DETAILS(self) -> bool:
        return bool(self.get("PROBLEM_DETAILS"))

    @property
    def EXCLUDE_PATHS(self) -> Sequence[str]:
        return cast(Sequence[str], self.get("EXCLUDE_PATHS"))

    @property
    def REQUEST_ID_HEADER(self) -> str:
        return cast(str, self.get("REQUEST_ID_HEADER"))

    @property
    def ACCEPT_REQUEST_ID(self) -> bool:
        return bool(self.get("ACCEPT_REQUEST_ID"))

    @property
    def REJECT_UNKNOWN_FIELDS(self) -> bool:
        return bool(self.get("REJECT_UNKNOWN_FIELDS"))

    @property
    def THROTTLE_CACHE(self) -> str:
        return cast(str, self.get("THROTTLE_CACHE"))

    @property
    def THROTTLE_STORE(self) -> str | None:
        return cast("str | None", self.get("THROTTLE_STORE"))

    @property
    def THROTTLE_STORE_TIMEOUT(self) -> float | None:
        value = self.get("THROTTLE_STORE_TIMEOUT")
        return None if value is None else float(value)

    @property
    def THROTTLE_ALGORITHM(self) -> str:
        return cast(str, self.get("THROTTLE_ALGORITHM"))

    @property
    def THROTTLE_KEY_PREFIX(self) -> str:
        return cast(str, self.get("THROTTLE_KEY_PREFIX"))

    @property
    def FAIL_OPEN(self) -> bool:
        return bool(self.get("FAIL_OPEN"))

    @property
    def NUM_PROXIES(self) -> int | None:
        value = self.get("NUM_PROXIES")
        return None if value is None else int(value)

    @property
    def IPV6_PREFIX(self) -> int:
        return int(self.get("IPV6_PREFIX"))

    @property
    def RATELIMIT_HEADERS(self) -> bool:
        return bool(self.get("RATELIMIT_HEADERS"))

    @property
    def IETF_RATELIMIT_HEADERS(self) -> bool:
        return bool(self.get("IETF_RATELIMIT_HEADERS"))

    @property
    def OUTAGE_LOG_INTERVAL(self) -> float:
        return float(self.get("OUTAGE_LOG_INTERVAL"))

    @property
    def BREAKER_FAILURES(self) -> int:
        return int(self.get("BREAKER_FAILURES"))

    @property
    def BREAKER_COOLDOWN(self) -> float:
        return float(self.get("BREAKER_COOLDOWN"))

    @property
    def REMEMBER_DENIALS(self) -> bool:
        return bool(self.get("REMEMBER_DENIALS"))


def _raw() -> Any:
    """``settings.APIERRORS`` as the project wrote it (``None`` when unset)."""
    return getattr(settings, "APIERRORS", None)


def _camel_case_package_in_use() -> bool:
    rest = getattr(settings, "REST_FRAMEWORK", None) or {}
    classes = [*rest.get("DEFAULT_RENDERER_CLASSES", ()), *rest.get("DEFAULT_PARSER_CLASSES", ())]
    return any(str(path).startswith("djangorestframework_camel_case") for path in classes)


conf = Settings()


@dataclass(frozen=True)
class EnvelopeSettings:
    """The keys every error response reads, as ``conf`` gives them, read once."""

    docs_url: str | None
    camelize_fields: bool
    field_codes: Mapping[str, str]
    exception_handler_class: str
    problem_details: bool
    exclude_paths: tuple[str, ...]
    request_id_header: str
    request_id_meta_key: str | None
    """The ``request.META`` key of ``REQUEST_ID_HEADER`` (``HTTP_X_REQUEST_ID``), ``None``
    when ``ACCEPT_REQUEST_ID`` is off."""


_envelope_settings: EnvelopeSettings | None = None


def envelope_settings() -> EnvelopeSettings:
    """The error path's settings, read through ``conf`` on first use after a change."""
    global _envelope_settings
    value = _envelope_settings
    if value is None:
        header = conf.REQUEST_ID_HEADER
        value = _envelope_settings = EnvelopeSettings(
            docs_url=conf.DOCS_URL,
            camelize_fields=conf.CAMELIZE_FIELDS,
            field_codes=conf.FIELD_CODES,
            exception_handler_class=conf.EXCEPTION_HANDLER_CLASS,
            problem_details=conf.PROBLEM_DETAILS,
            exclude_paths=tuple(conf.EXCLUDE_PATHS),
            request_id_header=header,
            request_id_meta_key=(
                "HTTP_" + header.upper().replace("-", "_") if conf.ACCEPT_REQUEST_ID else None
            ),
        )
    return value


# CAMELIZE_FIELDS left None follows REST_FRAMEWORK's renderer and parser classes.
_ENVELOPE_SOURCES = frozenset({"APIERRORS", "REST_FRAMEWORK"})


def forget_envelope_settings(**kwargs: Any) -> None:
    """Drop the snapshot when a setting it is read from changes (``setting_changed``)."""
    global _envelope_settings
    if kwargs.get("setting", "APIERRORS") in _ENVELOPE_SOURCES:
        _envelope_settings = None


setting_changed.connect(
    forget_envelope_settings, dispatch_uid="apierrors.conf.forget_envelope_settings"
)

"""The only module that reads Django settings.

Every setting lives in one dict, ``settings.APIERRORS``. Each is exposed here as a typed
property read on every access, so ``override_settings`` and pytest-django's ``settings``
fixture reach it. ``DEFAULTS`` lists every key; ``apierrors.checks`` refuses others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Envelope
    "DOCS_URL": None,
    "CAMELIZE_FIELDS": None,
    "FIELD_CODES": {},
    "EXCEPTION_HANDLER_CLASS": "apierrors.handler.ExceptionHandler",
    "PROBLEM_DETAILS": False,
    # Requests outside DRF
    "EXCLUDE_PATHS": (),
    # Request ids
    "REQUEST_ID_HEADER": "X-Request-ID",
    "ACCEPT_REQUEST_ID": True,
    # Serializers
    "REJECT_UNKNOWN_FIELDS": False,
    # Throttling
    "THROTTLE_CACHE": "default",
    "THROTTLE_ALGORITHM": "fixed_window",
    "THROTTLE_KEY_PREFIX": "apierrors:rl",
    "FAIL_OPEN": True,
    "NUM_PROXIES": None,
    "IPV6_PREFIX": 64,
    "RATELIMIT_HEADERS": True,
    "IETF_RATELIMIT_HEADERS": False,
    "OUTAGE_LOG_INTERVAL": 60,
    "BREAKER_FAILURES": 3,
    "BREAKER_COOLDOWN": 5.0,
}


class Settings:
    """Typed, read-on-access view of ``settings.APIERRORS``."""

    def get(self, key: str) -> Any:
        user = getattr(settings, "APIERRORS", None) or {}
        if key in user:
            return user[key]
        return DEFAULTS[key]

    def user_settings(self) -> Mapping[str, Any]:
        value = getattr(settings, "APIERRORS", None)
        return cast(Mapping[str, Any], value) if value is not None else {}

    @property
    def DOCS_URL(self) -> str | None:
        """Base URL of the catalogue page; each envelope then carries ``docUrl``."""
        return cast("str | None", self.get("DOCS_URL"))

    @property
    def CAMELIZE_FIELDS(self) -> bool:
        """Whether ``details[].field`` paths are camelCased; ``None`` detects
        djangorestframework-camel-case in ``REST_FRAMEWORK``'s renderers or parsers."""
        value = self.get("CAMELIZE_FIELDS")
        if value is None:
            return _camel_case_package_in_use()
        return bool(value)

    @property
    def FIELD_CODES(self) -> Mapping[str, str]:
        """Extra DRF validation codes mapped onto catalogue codes, e.g. ``{"too_cheap": ...}``."""
        return cast(Mapping[str, str], self.get("FIELD_CODES"))

    @property
    def EXCEPTION_HANDLER_CLASS(self) -> str:
        return cast(str, self.get("EXCEPTION_HANDLER_CLASS"))

    @property
    def PROBLEM_DETAILS(self) -> bool:
        return bool(self.get("PROBLEM_DETAILS"))

    @property
    def EXCLUDE_PATHS(self) -> Sequence[str]:
        """Path regexes whose non-DRF error pages the middleware leaves alone (``^/admin/``)."""
        return cast(Sequence[str], self.get("EXCLUDE_PATHS"))

    @property
    def REQUEST_ID_HEADER(self) -> str:
        return cast(str, self.get("REQUEST_ID_HEADER"))

    @property
    def ACCEPT_REQUEST_ID(self) -> bool:
        """Keep a valid incoming request id; ``False`` always generates a new one."""
        return bool(self.get("ACCEPT_REQUEST_ID"))

    @property
    def REJECT_UNKNOWN_FIELDS(self) -> bool:
        return bool(self.get("REJECT_UNKNOWN_FIELDS"))

    @property
    def THROTTLE_CACHE(self) -> str:
        return cast(str, self.get("THROTTLE_CACHE"))

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
        """How many proxies in front of the app to trust in ``X-Forwarded-For``."""
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


def _camel_case_package_in_use() -> bool:
    rest = getattr(settings, "REST_FRAMEWORK", None) or {}
    classes = [*rest.get("DEFAULT_RENDERER_CLASSES", ()), *rest.get("DEFAULT_PARSER_CLASSES", ())]
    return any(str(path).startswith("djangorestframework_camel_case") for path in classes)


conf = Settings()

"""Sentences of the error path, translated once per active language.

A ``gettext`` call costs a few microseconds (the active translation, then every catalogue
merged into it; ``ngettext`` evaluates the language's plural formula too), and some error
responses make several for sentences that never change: DRF's default ``Throttled`` detail,
``RateLimitExceeded``'s "retry after N seconds". ``translated(key, make)`` keeps what
``make()`` returned under ``key`` and the active language (``translation.get_language()``,
``None`` when translations are deactivated), until a setting the translations depend on
changes or a ``.mo`` file is reloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, cast

from django.core.signals import setting_changed
from django.utils.autoreload import file_changed
from django.utils.translation import get_language

MAX_KEPT = 1024
"""Past this many sentences (a retry message per number of seconds), start again."""

_kept: dict[tuple[str | None, Hashable], str] = {}

# Between begin_scope() and end_scope(), the active language once read is reused: reading
# it is most of what a kept sentence costs (asgiref's Local), and one error response can
# want several sentences (a throttled request: DRF's sentence to recognize, then ours).
_scope = threading.local()
_UNREAD = object()
_NO_SCOPE = object()


def begin_scope() -> None:
    """Read the active language at most once until ``end_scope()`` (in this thread)."""
    _scope.language = _UNREAD


def end_scope() -> None:
    _scope.__dict__.pop("language", None)


def _language() -> str | None:
    language = getattr(_scope, "language", _NO_SCOPE)
    if language is _NO_SCOPE:
        return get_language()
    if language is _UNREAD:
        language = _scope.language = get_language()
    return cast("str | None", language)


def translated(key: Hashable, make: Callable[[], str]) -> str:
    """``make()``, kept under ``key`` for the active language."""
    kept_key = (_language(), key)
    value = _kept.get(kept_key)
    if value is None:
        if len(_kept) >= MAX_KEPT:
            _kept.clear()
        value = _kept[kept_key] = make()
    return value


# The settings Django's own translation caches are reset for (django.test.signals).
_TRANSLATION_SETTINGS = frozenset(
    {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS", "USE_I18N"}
)


def forget(**kwargs: Any) -> None:
    """Drop every kept sentence (a translation setting changed, or ``.mo`` files did)."""
    setting = kwargs.get("setting")
    file_path = kwargs.get("file_path")
    if setting in _TRANSLATION_SETTINGS or (file_path is not None and file_path.suffix == ".mo"):
        _kept.clear()


setting_changed.connect(forget, dispatch_uid="apierrors.translated.forget")
file_changed.connect(forget, dispatch_uid="apierrors.translated.forget_mo")

"""Sentences kept per language: the active language's, even once kept for another."""

from __future__ import annotations

from pathlib import Path

from django.utils import translation
from django.utils.autoreload import file_changed
from rest_framework import exceptions as drf

from apierrors import exceptions as errors
from apierrors import translated
from apierrors.handler import ExceptionHandler


def retry_message(seconds: int) -> str:
    return errors.RateLimitExceeded(retry_after=seconds).message


def test_each_language_gets_its_own_sentence_after_the_first_is_kept():
    english = retry_message(3)
    with translation.override("fr"):
        french = retry_message(3)
        assert retry_message(3) == french
    with translation.override("de"):
        german = retry_message(3)
    assert retry_message(3) == english == "Too many requests. Please retry after 3 seconds."
    assert len({english, french, german}) == 3
    assert retry_message(1) == "Too many requests. Please retry after 1 second."


def test_deactivated_translations_are_a_language_of_their_own():
    with translation.override("fr"):
        french = retry_message(5)
    with translation.override(None):
        assert retry_message(5) == "Too many requests. Please retry after 5 seconds."
    with translation.override("fr"):
        assert retry_message(5) == french


def test_drfs_throttled_sentence_is_recognized_in_every_language():
    handler = ExceptionHandler()
    for language in ("en", "fr", "de", "en"):
        with translation.override(language):
            exc = drf.Throttled(wait=7)
            assert handler.kept_message(exc) is None  # DRF's default: the catalogue's
            assert handler.kept_message(drf.Throttled(detail="Slow down.")) == "Slow down."


def test_a_translation_setting_change_or_a_reloaded_catalogue_forgets(settings):
    retry_message(9)
    assert translated._kept
    settings.LANGUAGE_CODE = "en-us"
    assert not translated._kept
    retry_message(9)
    file_changed.send(sender=None, file_path=Path("x.py"))
    assert translated._kept
    file_changed.send(sender=None, file_path=Path("locale/fr/LC_MESSAGES/django.mo"))
    assert not translated._kept


def test_the_kept_sentences_are_bounded(monkeypatch):
    monkeypatch.setattr(translated, "MAX_KEPT", 3)
    translated._kept.clear()
    for seconds in range(10, 20):
        assert retry_message(seconds).endswith(f"{seconds} seconds.")
    assert len(translated._kept) <= 3


def test_a_validation_summary_follows_the_active_language():
    from apierrors import envelope

    detail = {"a": ["x"], "b": ["y"]}  # two problems: the catalogue's sentence sums them up
    english = envelope.validation(detail)[1]
    with translation.override("fr"):
        french = envelope.validation(detail)[1]
    assert english == "The request body is not valid."
    assert french != english
    assert envelope.validation(detail)[1] == english


def test_a_scope_reads_the_language_once_and_only_inside(monkeypatch):
    reads: list[str] = []

    def get_language() -> str:
        reads.append("read")
        return "fr"

    monkeypatch.setattr(translated, "get_language", get_language)
    translated.begin_scope()
    try:
        translated.translated("one", lambda: "un")
        translated.translated("two", lambda: "deux")
    finally:
        translated.end_scope()
    assert reads == ["read"]
    translated.translated("one", lambda: "un")
    assert reads == ["read", "read"]


def test_a_throttled_answer_is_in_the_active_language(api_client):
    from django.utils.translation import override

    english = api_client.get("/t/drf/throttled/").json()["error"]["message"]
    with override("fr"):
        french = api_client.get("/t/drf/throttled/").json()["error"]["message"]
    assert english.startswith("Too many requests.")
    assert french != english
    assert api_client.get("/t/drf/throttled/").json()["error"]["message"] == english

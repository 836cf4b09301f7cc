"""The sentences apierrors sends to clients, in the languages it ships.

Requests go through Django's ``LocaleMiddleware`` with an ``Accept-Language`` header, as in
a project; the catalogue checks read the shipped ``.mo`` files with ``gettext`` itself and
compile the ``.po`` files with ``msgfmt`` to prove the two agree.
"""

from __future__ import annotations

import ast
import gettext
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

import apierrors
from apierrors import codes
from tests.fixtures.services import missing_service

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(apierrors.__file__).parent / "locale"

# Per shipped locale: an Accept-Language a client would send, the language Django picks, and
# the sentences a 404 and a 429 (13 seconds to wait, so each language's plural rule for 13)
# must answer in it.
LANGUAGES: dict[str, tuple[str, str, str, str]] = {
    "de": (
        "de-DE,de;q=0.9",
        "de",
        "Die angeforderte Ressource existiert nicht.",
        "Zu viele Anfragen. Bitte versuchen Sie es in 13 Sekunden erneut.",
    ),
    "es": (
        "es-ES",
        "es",
        "El recurso solicitado no existe.",
        "Demasiadas solicitudes. Vuelva a intentarlo dentro de 13 segundos.",
    ),
    "fr": (
        "fr-FR,fr;q=0.9,en;q=0.5",
        "fr",
        "La ressource demandée n'existe pas.",
        "Trop de requêtes. Veuillez réessayer dans 13 secondes.",
    ),
    "it": (
        "it",
        "it",
        "La risorsa richiesta non esiste.",
        "Troppe richieste. Riprova tra 13 secondi.",
    ),
    "ja": (
        "ja-JP",
        "ja",
        "要求されたリソースは存在しません。",
        "リクエストが多すぎます。13 秒後に再試行してください。",
    ),
    "ko": (
        "ko-KR",
        "ko",
        "요청한 리소스가 존재하지 않습니다.",
        "요청이 너무 많습니다. 13초 후에 다시 시도하세요.",
    ),
    "nl": (
        "nl-NL",
        "nl",
        "De opgevraagde resource bestaat niet.",
        "Te veel verzoeken. Probeer het over 13 seconden opnieuw.",
    ),
    "pl": (
        "pl-PL",
        "pl",
        "Żądany zasób nie istnieje.",
        "Zbyt wiele żądań. Spróbuj ponownie za 13 sekund.",
    ),
    "pt_BR": (
        "pt-BR,pt;q=0.8",
        "pt-br",
        "O recurso solicitado não existe.",
        "Muitas requisições. Tente novamente em 13 segundos.",
    ),
    "ru": (
        "ru-RU,ru;q=0.9",
        "ru",
        "Запрошенный ресурс не существует.",
        "Слишком много запросов. Повторите попытку через 13 секунд.",
    ),
    "tr": (
        "tr-TR",
        "tr",
        "İstenen kaynak mevcut değil.",
        "Çok fazla istek. Lütfen 13 saniye sonra yeniden deneyin.",
    ),
    "zh_Hans": (
        "zh-CN,zh;q=0.9",
        "zh-hans",
        "请求的资源不存在。",
        "请求过多。请在 13 秒后重试。",
    ),
}

ENGLISH_404 = "The requested resource does not exist."
ENGLISH_429 = "Too many requests. Please retry after 13 seconds."


def shipped_locales() -> list[str]:
    return sorted(path.name for path in LOCALE_DIR.iterdir() if (path / "LC_MESSAGES").is_dir())


@pytest.fixture(autouse=True)
def _default_language_afterwards() -> Iterator[None]:
    # LocaleMiddleware activates the request's language and leaves it active on the thread.
    yield
    translation.deactivate()


@pytest.fixture
def locale_client(settings: Any) -> Client:
    """A client whose requests pass through ``LocaleMiddleware`` (inside
    ``APIErrorsMiddleware``, which stays first)."""
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(
        middleware.index("apierrors.middleware.APIErrorsMiddleware") + 1,
        "django.middleware.locale.LocaleMiddleware",
    )
    settings.MIDDLEWARE = middleware
    return Client(raise_request_exception=False)


def error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = json.loads(response.content)["error"]
    return body


def test_every_shipped_locale_is_exercised() -> None:
    assert shipped_locales() == sorted(LANGUAGES)


# Requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_a_request_is_answered_in_its_language(locale_client: Client, locale: str) -> None:
    accept, language, not_found, throttled = LANGUAGES[locale]

    response = locale_client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 404
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]
    assert error(response)["code"] == "RESOURCE_NOT_FOUND"
    assert error(response)["message"] == not_found

    response = locale_client.get("/t/drf/throttled/", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 429
    assert error(response)["message"] == throttled

    # The validation summary, and DRF's own sentences in the details beside it.
    response = locale_client.post(
        "/t/orders/",
        {"kind": "z", "items": [{"name": "x", "quantity": 0}]},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=accept,
    )
    assert response.status_code == 422
    body = error(response)
    assert body["code"] == "VALIDATION_ERROR"
    with translation.override(language):
        summary = str(codes.VALIDATION_ERROR.message)
        required = translation.gettext("This field is required.")
    assert summary != "The request body is not valid."
    assert body["message"] == summary
    assert {"field": "title", "code": "MISSING_FIELD", "message": required} in body["details"]


@pytest.mark.parametrize("locale", ["fr", "ja"])
def test_unknown_field_sentence_is_translated(locale_client: Client, locale: str) -> None:
    accept, language, _, _ = LANGUAGES[locale]
    response = locale_client.post(
        "/t/orders/strict/",
        {"title": "x", "colour": "red"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=accept,
    )
    assert response.status_code == 422
    body = error(response)
    with translation.override(language):
        expected = translation.gettext("This field is not accepted by this endpoint.")
    assert expected != "This field is not accepted by this endpoint."
    assert body["message"] == expected
    assert body["details"] == [{"field": "colour", "code": "INVALID_FIELD", "message": expected}]


def test_a_language_apierrors_does_not_ship_falls_back_to_english(locale_client: Client) -> None:
    # Django itself speaks Swedish, so LocaleMiddleware picks it; apierrors has no sv.
    response = locale_client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="sv")
    assert response["Content-Language"] == "sv"
    assert error(response)["message"] == ENGLISH_404
    response = locale_client.get("/t/drf/throttled/", HTTP_ACCEPT_LANGUAGE="sv")
    assert error(response)["message"] == ENGLISH_429


def test_without_accept_language_the_default_language_answers(locale_client: Client) -> None:
    response = locale_client.get("/no/such/page/")
    assert error(response)["message"] == ENGLISH_404


def test_without_locale_middleware_language_code_answers(settings: Any) -> None:
    settings.LANGUAGE_CODE = "de"
    response = Client(raise_request_exception=False).get(
        "/no/such/page/", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert error(response)["message"] == LANGUAGES["de"][2]


def msgfmt() -> str:
    path = shutil.which("msgfmt")
    if path is None:
        missing_service("msgfmt (GNU gettext) is not installed")
    assert path is not None
    return path


def test_a_project_overrides_a_sentence_with_its_own_locale_paths(
    locale_client: Client, settings: Any, tmp_path: Path
) -> None:
    messages = tmp_path / "fr" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        f'msgid "{ENGLISH_404}"\nmsgstr "Rien ici."\n',
        encoding="utf-8",
    )
    subprocess.run(
        [msgfmt(), "-o", str(messages / "django.mo"), str(messages / "django.po")], check=True
    )
    settings.LOCALE_PATHS = [str(tmp_path)]

    response = locale_client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="fr")
    assert error(response)["message"] == "Rien ici."
    # The sentences the project did not override keep apierrors' translation.
    response = locale_client.get("/t/drf/throttled/", HTTP_ACCEPT_LANGUAGE="fr")
    assert error(response)["message"] == LANGUAGES["fr"][3]


# Catalogues --------------------------------------------------------------------------------

GETTEXT_FUNCTIONS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
PLACEHOLDER = re.compile(r"%\(\w+\)[#0\- +]*\d*(?:\.\d+)?[sdirfgeExXoc]|\{\w*\}")


def source_msgids() -> set[str | tuple[str, str]]:
    """Every string apierrors marks for translation: a msgid, or (msgid, msgid_plural)."""
    found: set[str | tuple[str, str]] = set()
    for path in Path(apierrors.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in GETTEXT_FUNCTIONS:
                continue
            literals = [
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
            if node.func.id.startswith("n"):
                assert len(literals) >= 2, f"{path}: a plural call without literal strings"
                found.add((literals[0], literals[1]))
            else:
                assert literals, f"{path}: a gettext call without a literal string"
                found.add(literals[0])
    return found


def catalogue_msgids() -> set[str]:
    with translation.override(None):
        return {str(entry.message) for entry in codes.CATALOGUE.values()}


def load(mo: Path) -> gettext.GNUTranslations:
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def entries(translations: gettext.GNUTranslations) -> dict[Any, str]:
    # The parsed catalogue: msgid -> text, (msgid, n) -> plural form n.
    catalog: dict[Any, str] = translations._catalog  # type: ignore[attr-defined]
    return catalog


def nplurals(translations: gettext.GNUTranslations) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", translations.info().get("plural-forms", ""))
    assert match is not None
    return int(match.group(1))


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_the_source_scan_finds_the_catalogue_and_plural_sentences() -> None:
    found = source_msgids()
    assert catalogue_msgids() <= found
    assert (
        "Too many requests. Please retry after %(seconds)d second.",
        "Too many requests. Please retry after %(seconds)d seconds.",
    ) in found
    assert "The request body could not be parsed." in found


@pytest.mark.parametrize("locale", shipped_locales())
def test_every_sentence_has_a_translation(locale: str) -> None:
    translations = load(LOCALE_DIR / locale / "LC_MESSAGES" / "django.mo")
    catalog = entries(translations)
    forms = nplurals(translations)
    missing = []
    for msgid in sorted(source_msgids() | catalogue_msgids(), key=str):
        if isinstance(msgid, tuple):
            singular = msgid[0]
            texts = [catalog.get((singular, form), "") for form in range(forms)]
        else:
            singular = msgid
            texts = [catalog.get(msgid, "")]
        for text in texts:
            if not text:
                missing.append(msgid)
            elif placeholders(text) != placeholders(singular):
                missing.append(f"{msgid!r} -> {text!r}: placeholders differ")
    assert missing == [], (
        f"apierrors/locale/{locale} lacks these translations: run makemessages, translate, "
        "compilemessages (docs/translations.md)"
    )


@pytest.mark.parametrize("locale", shipped_locales())
def test_the_po_file_is_complete_and_the_mo_file_compiled_from_it(
    locale: str, tmp_path: Path
) -> None:
    messages = LOCALE_DIR / locale / "LC_MESSAGES"
    compiled = tmp_path / "django.mo"
    result = subprocess.run(
        [
            msgfmt(),
            "--check",
            "--statistics",
            "-o",
            str(compiled),
            str(messages / "django.po"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr, result.stderr
    shipped = load(messages / "django.mo")
    fresh = load(compiled)
    assert entries(shipped) == entries(fresh), f"recompile apierrors/locale/{locale}"
    assert shipped.info() == fresh.info()

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apierrors.conf import BY_NAME, DEFAULTS, SETTINGS, Settings, conf


def test_defaults_when_unset(settings):
    settings.APIERRORS = {}
    for key, value in DEFAULTS.items():
        assert conf.get(key) == value
    assert conf.DOCS_URL is None
    assert conf.FAIL_OPEN is True
    assert conf.REQUEST_ID_HEADER == "X-Request-ID"


def test_overrides_are_read_on_every_access(settings):
    settings.APIERRORS = {"DOCS_URL": "https://a.example/"}
    assert conf.DOCS_URL == "https://a.example/"
    settings.APIERRORS = {"DOCS_URL": "https://b.example/"}
    assert conf.DOCS_URL == "https://b.example/"


def test_missing_setting_is_the_defaults(settings):
    del settings.APIERRORS
    assert conf.NUM_PROXIES is None
    assert conf.user_settings() == {}


def test_camelize_auto_detection(settings):
    def camelize_fields() -> bool:
        # Read afresh each time: the value follows the settings.
        return conf.CAMELIZE_FIELDS

    settings.APIERRORS = {}
    assert camelize_fields() is False
    settings.REST_FRAMEWORK = {
        "DEFAULT_PARSER_CLASSES": ["djangorestframework_camel_case.parser.CamelCaseJSONParser"]
    }
    assert camelize_fields() is True
    settings.APIERRORS = {"CAMELIZE_FIELDS": False}
    assert camelize_fields() is False


def test_every_key_has_a_typed_attribute_and_every_attribute_a_key():
    attributes = {name for name in vars(Settings) if name.isupper()}
    assert attributes == {setting.name for setting in SETTINGS}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_every_default_passes_its_own_validation(setting):
    assert setting.validate(setting.default) is None


def test_settings_page_shows_the_table_section_by_section():
    page = (Path(__file__).resolve().parent.parent / "docs" / "settings.md").read_text()
    rows: dict[str, tuple[str, str, str]] = {}
    section = ""
    for line in page.splitlines():
        if line.startswith("## "):
            section = line[3:]
        found = re.match(r"^\| `([A-Z0-9_]+)` \| `([^`]*)` \| (.*) \|$", line)
        if found:
            rows[found[1]] = (section, found[2], found[3])
    assert rows == {
        setting.name: (setting.section, repr(setting.default).replace("'", '"'), setting.doc)
        for setting in SETTINGS
    }


def test_problems_of_a_valid_dict_and_of_none(settings):
    settings.APIERRORS = {"FAIL_OPEN": False, "BREAKER_COOLDOWN": 0.5}
    assert conf.problems() == []
    del settings.APIERRORS
    assert conf.problems() == []


def test_problems_name_the_kind_and_the_key(settings):
    settings.APIERRORS = ("DOCS_URL",)
    assert [problem.kind for problem in conf.problems()] == ["not_a_dict"]
    settings.APIERRORS = {"IPV6_PREFIX": 129, "THROTTLE_ALGORITHM": "gcra", "NOPE": 1}
    assert [(problem.kind, problem.key) for problem in conf.problems()] == [
        ("bad_value", "IPV6_PREFIX"),
        ("unknown_key", "NOPE"),
    ]


def test_algorithm_validation_lists_the_algorithms():
    expected = BY_NAME["THROTTLE_ALGORITHM"].validate("sliding_log")
    assert expected == "one of 'fixed_window', 'gcra'"


def test_envelope_settings_are_read_again_after_a_change(settings):
    from apierrors.conf import envelope_settings

    settings.APIERRORS = {"DOCS_URL": "https://a.example/", "ACCEPT_REQUEST_ID": False}
    first = envelope_settings()
    assert envelope_settings() is first  # kept while nothing changes
    assert (first.docs_url, first.request_id_meta_key) == ("https://a.example/", None)
    settings.APIERRORS = {"DOCS_URL": "https://b.example/", "REQUEST_ID_HEADER": "X-Trace"}
    second = envelope_settings()
    assert second.docs_url == "https://b.example/"
    assert (second.request_id_header, second.request_id_meta_key) == ("X-Trace", "HTTP_X_TRACE")


def test_envelope_settings_follow_rest_framework_for_camel_case(settings):
    from apierrors.conf import envelope_settings

    settings.APIERRORS = {}
    assert envelope_settings().camelize_fields is False
    settings.REST_FRAMEWORK = {
        "DEFAULT_PARSER_CLASSES": ["djangorestframework_camel_case.parser.CamelCaseJSONParser"]
    }
    assert envelope_settings().camelize_fields is True

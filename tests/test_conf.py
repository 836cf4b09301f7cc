from __future__ import annotations

from apierrors.conf import DEFAULTS, conf


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
    settings.APIERRORS = {}
    assert conf.CAMELIZE_FIELDS is False
    settings.REST_FRAMEWORK = {
        "DEFAULT_PARSER_CLASSES": ["djangorestframework_camel_case.parser.CamelCaseJSONParser"]
    }
    assert conf.CAMELIZE_FIELDS is True
    settings.APIERRORS = {"CAMELIZE_FIELDS": False}
    assert conf.CAMELIZE_FIELDS is False

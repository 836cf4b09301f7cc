from __future__ import annotations

import gc

import pytest
from django.core import checks as django_checks

from apierrors import checks
from apierrors.exceptions import ApiError
from apierrors.middleware import APIErrorsMiddleware


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_configured_project_passes_every_foundation_check():
    assert checks.check_exception_handler() == []
    assert checks.check_middleware() == []
    assert checks.check_middleware_order() == []
    assert checks.check_settings() == []
    assert checks.check_duplicate_codes() == []


def test_checks_are_registered_with_django():
    registered: list[object] = list(django_checks.registry.registry.get_checks())
    for check in (
        checks.check_exception_handler,
        checks.check_middleware,
        checks.check_middleware_order,
        checks.check_settings,
        checks.check_authenticate_header,
        checks.check_json_parser,
    ):
        assert check in registered


def test_e001_default_drf_handler(settings):
    settings.REST_FRAMEWORK = {}
    assert ids(checks.check_exception_handler()) == ["apierrors.E001"]
    settings.REST_FRAMEWORK = {"EXCEPTION_HANDLER": "rest_framework.views.exception_handler"}
    assert ids(checks.check_exception_handler()) == ["apierrors.E001"]


def test_w001_some_other_handler(settings):
    settings.REST_FRAMEWORK = {"EXCEPTION_HANDLER": "myproject.handlers.handle"}
    assert ids(checks.check_exception_handler()) == ["apierrors.W001"]


def test_e002_middleware_missing(settings):
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    assert ids(checks.check_middleware()) == ["apierrors.E002"]


def test_e002_accepts_a_subclass(settings):
    settings.MIDDLEWARE = ["tests.test_checks.MyMiddleware"]
    assert checks.check_middleware() == []


class MyMiddleware(APIErrorsMiddleware):
    pass


def test_e003_settings_not_a_dict(settings):
    settings.APIERRORS = ["DOCS_URL"]
    assert ids(checks.check_settings()) == ["apierrors.E003"]


def test_e004_unknown_key(settings):
    settings.APIERRORS = {"DOCS_ULR": "https://typo.example/"}
    messages = checks.check_settings()
    assert ids(messages) == ["apierrors.E004"]
    assert "DOCS_ULR" in messages[0].msg


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DOCS_URL", 42),
        ("CAMELIZE_FIELDS", "yes"),
        ("FIELD_CODES", ["x"]),
        ("EXCEPTION_HANDLER_CLASS", "no.such.Handler"),
        ("EXCLUDE_PATHS", ["(unclosed"]),
        ("EXCLUDE_PATHS", "^/admin/"),
        ("REQUEST_ID_HEADER", "X Bad Header"),
        ("FAIL_OPEN", "false"),
        ("NUM_PROXIES", -1),
        ("IPV6_PREFIX", 129),
        ("BREAKER_COOLDOWN", -2),
    ],
)
def test_e005_bad_values(settings, key, value):
    settings.APIERRORS = {key: value}
    assert ids(checks.check_settings()) == ["apierrors.E005"]


def test_good_values_pass(settings):
    settings.APIERRORS = {
        "DOCS_URL": "https://docs.example/catalogue.html",
        "EXCLUDE_PATHS": [r"^/admin/"],
        "NUM_PROXIES": 1,
        "FAIL_OPEN": False,
        "EXCEPTION_HANDLER_CLASS": "apierrors.handler.ExceptionHandler",
    }
    assert checks.check_settings() == []


def test_e006_one_code_two_statuses():
    class Conflicting(ApiError):
        status_code = 400
        default_code = "RESOURCE_NOT_FOUND"

    messages = checks.check_duplicate_codes()
    assert ids(messages) == ["apierrors.E006"]
    assert "RESOURCE_NOT_FOUND" in messages[0].msg
    assert "Conflicting" in messages[0].msg
    del Conflicting
    gc.collect()
    assert checks.check_duplicate_codes() == []


def test_same_code_same_status_is_fine():
    class AlsoNotFound(ApiError):
        status_code = 404
        default_code = "RESOURCE_NOT_FOUND"

    assert checks.check_duplicate_codes() == []


def test_w002_first_authenticator_without_header(settings):
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"]
    }
    messages = checks.check_authenticate_header()
    assert "apierrors.W002" in ids(messages)
    assert "DEFAULT_AUTHENTICATION_CLASSES" in messages[0].msg


def test_w002_fires_on_drf_default_authentication_when_unset(settings):
    # Every project that never set DEFAULT_AUTHENTICATION_CLASSES has Session first.
    settings.REST_FRAMEWORK = {}
    messages = checks.check_authenticate_header()
    assert any(
        "SessionAuthentication" in message.msg and "DEFAULT_AUTHENTICATION_CLASSES" in message.msg
        for message in messages
    )


def test_w002_walks_the_views_own_authentication_classes(settings):
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"]
    }
    messages = checks.check_authenticate_header()
    assert ids(messages) == ["apierrors.W002"]
    assert "DEFAULT_AUTHENTICATION_CLASSES" not in messages[0].msg
    # tests.dropin's SessionFirstView sets [SessionAuthentication, BasicAuthentication].
    assert "SessionFirstView (t/dropin/session-first/)" in messages[0].msg
    assert "BasicFirstView" not in messages[0].msg


def test_w002_is_quiet_when_every_first_class_sends_a_challenge(settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"]
    }
    monkeypatch.setattr(checks, "drf_views", list)
    assert checks.check_authenticate_header() == []


def test_drf_views_lists_the_urlconf_routes():
    from tests.dropin.views import BasicFirstView

    assert ("t/dropin/basic-first/", BasicFirstView) in checks.drf_views()


def test_w003_drf_json_parser(settings):
    settings.REST_FRAMEWORK = {}
    assert ids(checks.check_json_parser()) == ["apierrors.W003"]
    settings.REST_FRAMEWORK = {"DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"]}
    assert ids(checks.check_json_parser()) == ["apierrors.W003"]
    settings.REST_FRAMEWORK = {"DEFAULT_PARSER_CLASSES": ["apierrors.parsers.JSONParser"]}
    assert checks.check_json_parser() == []


def test_w003_hint_keeps_form_and_multipart_parsers(settings):
    settings.REST_FRAMEWORK = {}
    [message] = checks.check_json_parser()
    assert message.hint == (
        'Use "apierrors.parsers.JSONParser" in its place: DEFAULT_PARSER_CLASSES = '
        '["apierrors.parsers.JSONParser", "rest_framework.parsers.FormParser", '
        '"rest_framework.parsers.MultiPartParser"].'
    )


def test_w003_hint_swaps_only_drfs_json_parser_in_the_projects_list(settings):
    settings.REST_FRAMEWORK = {
        "DEFAULT_PARSER_CLASSES": [
            "rest_framework.parsers.MultiPartParser",
            "rest_framework.parsers.JSONParser",
        ]
    }
    [message] = checks.check_json_parser()
    assert message.hint is not None
    assert message.hint.endswith(
        '["rest_framework.parsers.MultiPartParser", "apierrors.parsers.JSONParser"].'
    )


def test_w004_middleware_after_one_that_answers_errors(settings):
    settings.MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "apierrors.middleware.APIErrorsMiddleware",
    ]
    messages = checks.check_middleware_order()
    assert ids(messages) == ["apierrors.W004"]
    assert "CommonMiddleware, django.contrib.sessions" in messages[0].msg
    assert "SecurityMiddleware" not in messages[0].msg


def test_w004_subclass_placed_late(settings):
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware", f"{__name__}.MyMiddleware"]
    assert ids(checks.check_middleware_order()) == ["apierrors.W004"]


@pytest.mark.parametrize(
    "before",
    [
        [],
        ["django.middleware.security.SecurityMiddleware"],
        ["corsheaders.middleware.CorsMiddleware", "django.middleware.gzip.GZipMiddleware"],
        ["whitenoise.middleware.WhiteNoiseMiddleware"],
    ],
)
def test_w004_middleware_that_never_answer_errors_may_come_first(settings, before):
    settings.MIDDLEWARE = [
        *before,
        "apierrors.middleware.APIErrorsMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]
    assert checks.check_middleware_order() == []


def test_w004_leaves_a_missing_middleware_to_e002(settings):
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    assert checks.check_middleware_order() == []
    assert ids(checks.check_middleware()) == ["apierrors.E002"]


def test_e003_e004_e005_hints_and_messages_come_from_conf(settings):
    settings.APIERRORS = {"FAIL_OPEN": "no", "FAIL_CLOSED": True}
    messages = checks.check_settings()
    assert ids(messages) == ["apierrors.E005", "apierrors.E004"]
    assert messages[0].msg == "APIERRORS['FAIL_OPEN'] is 'no'; it must be True or False."
    assert messages[1].hint is not None
    assert "FAIL_OPEN" in messages[1].hint


def test_the_throttle_checks_old_names_still_work_for_one_release():
    import apierrors.checks
    from apierrors.ratelimit import checks as ratelimit_checks

    with pytest.deprecated_call(match="moved to apierrors.ratelimit.checks"):
        moved = apierrors.checks.check_throttle_rates
    assert moved is ratelimit_checks.check_throttle_rates
    with pytest.raises(AttributeError):
        _ = apierrors.checks.no_such_check

"""Settings of the sandbox project: a small marketing API that shows apierrors working.

With no environment it runs on SQLite and the in-memory cache. ``DATABASE_URL`` switches
the database (``postgres://127.0.0.1/apierrors``), ``REDIS_URL`` the cache and therefore
the throttles (``redis://127.0.0.1:6379/0``). ``SANDBOX_THROTTLE_RATES`` overrides rates,
e.g. ``SANDBOX_THROTTLE_RATES="token=3/minute,user=100/hour"``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# The default key is public (it is in this file): anyone could sign tokens with it. It is
# accepted only with DEBUG on, for a sandbox on one's own machine.
DEFAULT_SECRET_KEY = "sandbox-only-not-a-secret-0123456789abcdef"
SECRET_KEY = os.environ.get("SANDBOX_SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG = os.environ.get("SANDBOX_DEBUG", "1") == "1"
if not DEBUG and SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SANDBOX_DEBUG=0 needs SANDBOX_SECRET_KEY: the default key is public, and tokens "
        "signed with it would be accepted."
    )
# A URL without its trailing slash is 404 whatever the method and DEBUG: the redirect
# APPEND_SLASH would answer cannot carry a POST's body (and with DEBUG it is a 500).
APPEND_SLASH = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apierrors",
    "apierrors.contrib.prometheus",
    "sandbox.accounts",
    "sandbox.segments",
    "sandbox.campaigns",
    "sandbox.social",
]

MIDDLEWARE = [
    "apierrors.middleware.APIErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"
CSRF_FAILURE_VIEW = "apierrors.views.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'sandbox.sqlite3'}", conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"


def throttle_rates(overrides: str) -> dict[str, str | list[str]]:
    """The throttles' rates (see ``sandbox.throttles``), with overrides such as
    ``"token=3/minute,campaign-writes=2/second+20/hour"`` (``+`` joins several rates)."""
    rates: dict[str, str | list[str]] = {
        "user": "1000/hour",
        "anon": "100/hour",
        "token": "10/minute",
        "campaign-writes": ["10/second", "200/hour"],
    }
    for item in filter(None, (part.strip() for part in overrides.split(","))):
        scope, _, value = item.partition("=")
        parts = value.split("+")
        rates[scope.strip()] = parts[0] if len(parts) == 1 else parts
    return rates


REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "apierrors.handler.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apierrors.parsers.JSONParser"],
    # Bearer tokens everywhere, so a refused anonymous request is 401 with its challenge
    # (DRF's default, session first, has none: apierrors.W002).
    "DEFAULT_AUTHENTICATION_CLASSES": ["apierrors.contrib.simplejwt.JWTAuthentication"],
    # The throttles are set on the sandbox's views (see sandbox.throttles); their rates live
    # here, read on every request.
    "DEFAULT_THROTTLE_RATES": throttle_rates(os.environ.get("SANDBOX_THROTTLE_RATES", "")),
    "DEFAULT_PAGINATION_CLASS": "sandbox.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "apierrors.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=30),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": SECRET_KEY,
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "apierrors sandbox",
    "DESCRIPTION": "A small marketing API that answers every apierrors code for real.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

APIERRORS: dict[str, object] = {"FAIL_OPEN": os.environ.get("SANDBOX_FAIL_OPEN", "1") == "1"}
if os.environ.get("SANDBOX_THROTTLE_STORE_TIMEOUT"):
    APIERRORS["THROTTLE_STORE_TIMEOUT"] = float(os.environ["SANDBOX_THROTTLE_STORE_TIMEOUT"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apierrors.logging.RequestIDFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    # Django's own console handler would print each of its records a second time.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}

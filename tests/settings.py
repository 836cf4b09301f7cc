"""Test settings: the sandbox project plus a test app whose views raise every failure."""

from __future__ import annotations

import os

from sandbox.settings import *  # noqa: F403
from sandbox.settings import CACHES, INSTALLED_APPS, MIDDLEWARE, REDIS_URL, REST_FRAMEWORK

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.sessions", "tests.testapp"]
# Sessions let the tests reach DRF's SessionAuthentication CSRF check.
MIDDLEWARE = [
    *MIDDLEWARE,
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.urls"
# The test app's views run under DRF's default authentication (session, then basic), as in a
# project that never set DEFAULT_AUTHENTICATION_CLASSES; the sandbox's views name theirs.
REST_FRAMEWORK = {
    key: value for key, value in REST_FRAMEWORK.items() if key != "DEFAULT_AUTHENTICATION_CLASSES"
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Each pytest-xdist worker gets a Redis database of its own, since tests flush theirs.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_base, _, _db = (REDIS_URL or "").rpartition("/")
if _worker.startswith("gw") and _db.isdigit():
    CACHES["default"]["LOCATION"] = f"{_base}/{int(_db) + int(_worker[2:])}"

# These machines are shared and often loaded: a Redis reply that takes longer than the
# library's default store timeout (0.25 s) must not count as an outage in a test that is not
# about outages. Tests of the timeout itself set their own value.
APIERRORS = {"THROTTLE_STORE_TIMEOUT": 2.0}

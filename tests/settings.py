"""Test settings: the sandbox project plus a test app whose views raise every failure."""

from sandbox.settings import *  # noqa: F403
from sandbox.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.sessions", "tests.testapp"]
# Sessions let the tests reach DRF's SessionAuthentication CSRF check.
MIDDLEWARE = [
    *MIDDLEWARE,
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

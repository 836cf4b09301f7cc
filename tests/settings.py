"""Test settings: the sandbox project plus a test app whose views raise every failure."""

from sandbox.settings import *  # noqa: F403
from sandbox.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
ROOT_URLCONF = "tests.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

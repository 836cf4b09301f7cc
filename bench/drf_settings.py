"""The sandbox with DRF's defaults, for bench/e2e.py: the other side of the comparison.

Same views, database, cache and rates as ``sandbox.settings``, but DRF's own exception
handler and JSON parser, no ``APIErrorsMiddleware``, and DRF's ``UserRateThrottle`` /
``AnonRateThrottle`` (on the same Redis, through django-redis) where the sandbox uses
apierrors' throttles. The sandbox sets its throttles on its view classes, not in
settings, so ``bench.drf_urls`` serves subclasses of those views with DRF's throttles.

Serve it with ``DJANGO_SETTINGS_MODULE=bench.drf_settings gunicorn sandbox.wsgi``.
"""

from __future__ import annotations

from sandbox.settings import *  # noqa: F403
from sandbox.settings import MIDDLEWARE, REST_FRAMEWORK

MIDDLEWARE = [name for name in MIDDLEWARE if name != "apierrors.middleware.APIErrorsMiddleware"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "EXCEPTION_HANDLER": "rest_framework.views.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
ROOT_URLCONF = "bench.drf_urls"

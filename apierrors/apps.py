from __future__ import annotations

from django.apps import AppConfig


class APIErrorsConfig(AppConfig):
    name = "apierrors"
    verbose_name = "API errors"

    def ready(self) -> None:
        from apierrors import checks, serializers
        from apierrors.conf import conf
        from apierrors.ratelimit import checks as ratelimit_checks

        checks.register()
        ratelimit_checks.register()
        if conf.REJECT_UNKNOWN_FIELDS:
            serializers.install()

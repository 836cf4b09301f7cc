from __future__ import annotations

from django.apps import AppConfig


class OpenTelemetryConfig(AppConfig):
    """Adding ``"apierrors.contrib.otel"`` to ``INSTALLED_APPS`` subscribes the hooks."""

    name = "apierrors.contrib.otel"
    label = "apierrors_otel"
    verbose_name = "API errors: OpenTelemetry"

    def ready(self) -> None:
        from apierrors.contrib.otel import install

        install()

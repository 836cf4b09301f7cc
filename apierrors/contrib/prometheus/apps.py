from __future__ import annotations

from django.apps import AppConfig


class PrometheusConfig(AppConfig):
    """Adding ``"apierrors.contrib.prometheus"`` to ``INSTALLED_APPS`` subscribes the hooks."""

    name = "apierrors.contrib.prometheus"
    label = "apierrors_prometheus"
    verbose_name = "API errors: Prometheus metrics"

    def ready(self) -> None:
        from apierrors.contrib.prometheus import install

        install()

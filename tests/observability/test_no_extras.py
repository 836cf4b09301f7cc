"""Without the extras, apierrors imports none of them: the signals need only Django."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.fixtures.sandbox_server import ROOT

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys

    EXTRAS = ("prometheus_client", "opentelemetry", "pythonjsonlogger", "django_prometheus")

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in EXTRAS:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, NotInstalled())

    import django
    from django.conf import settings

    import tests.settings as base

    apps = [a for a in base.INSTALLED_APPS if not a.startswith("apierrors.contrib.")]
    own = ("INSTALLED_APPS", "ROOT_URLCONF")
    settings.configure(
        **{k: getattr(base, k) for k in dir(base) if k.isupper() and k not in own},
        INSTALLED_APPS=apps,
        ROOT_URLCONF="tests.observability.no_extras_urls",
    )
    django.setup()
    from django.core.management import call_command
    call_command("migrate", run_syncdb=True, verbosity=0)

    from django.test import Client
    from django.core.cache import cache
    from apierrors import signals
    import apierrors.logging, apierrors.handler, apierrors.throttling

    client = Client(raise_request_exception=False)
    statuses = [client.get(p).status_code for p in
                ("/t/drf/not_found/", "/t/django/boom/", "/nowhere/")]
    statuses += [client.get("/t/throttle/user/").status_code for _ in range(2)]
    assert not signals.error_response.receivers and not signals.throttle_decision.receivers
    assert not signals._error_hooks and not signals._decision_hooks
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in EXTRAS)
    print(statuses, loaded)
    """
)


def test_no_extra_is_imported(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "HOME": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[404, 500, 404, 200, 200] []"

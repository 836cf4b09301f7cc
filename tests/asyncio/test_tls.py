"""TLS on the async path: a ``rediss://`` server checked natively on redis.asyncio with the
sync pool's TLS settings, and a setting redis.asyncio cannot honour (OCSP validation of the
server's certificate) kept by checking in a worker thread instead of being dropped."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apierrors.ratelimit import StoreUnavailable, get_store, plan_for
from apierrors.ratelimit.base import Plan, Result, Store
from apierrors.ratelimit.redis import RedisScriptStore
from tests.fixtures.services import RedisServer, free_port, missing_service, start_redis
from tests.throttle_app.helpers import use_cache

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db]

_prefixes = itertools.count()


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A private redis-server that speaks TLS, with a certificate of a CA of its own (and
    no OCSP responder named in it): ``(its rediss:// URL, the CA's certificate)``."""
    if shutil.which("openssl") is None:
        missing_service("openssl is not on PATH; it makes the TLS server's certificate")
    where = tmp_path_factory.mktemp("tls")
    ca, key, csr, cert, ext = (where / name for name in ("ca", "key", "csr", "cert", "ext"))
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ca",
             "-keyout", f"{ca}.key", "-out", f"{ca}.pem")  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(csr))  # fmt: skip
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    port = free_port()
    server: RedisServer = start_redis(
        [
            "--tls-port",
            str(port),
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            f"{ca}.pem",
            "--tls-auth-clients",
            "no",
        ]  # fmt: skip
    )
    try:
        yield f"rediss://127.0.0.1:{port}/0", Path(f"{ca}.pem")
    finally:
        server.stop()


def plan() -> Plan:
    return plan_for(("3/minute",), "fixed_window", None, f"tls{next(_prefixes)}")


def outcomes(store: Store, the_plan: Plan) -> tuple[Any, Any]:
    """The sync check's outcome, then the async check's, for the same key."""

    def sync() -> Result | str:
        try:
            return store.check("a", the_plan)
        except StoreUnavailable as exc:
            return str(exc)

    async def asynchronous() -> Result | str:
        try:
            return await store.acheck("a", the_plan)
        except StoreUnavailable as exc:
            return str(exc)

    return sync(), asyncio.run(asynchronous())


def django_tls_cache(url: str, **options: object) -> dict[str, object]:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "OPTIONS": options,
    }


def test_a_tls_server_is_checked_natively(settings, tls_redis):
    url, ca = tls_redis
    store = get_store(use_cache(settings, django_tls_cache(url, ssl_ca_certs=str(ca))))
    assert isinstance(store, RedisScriptStore)
    assert store.connections is not None
    seen: list[int] = []

    async def check() -> Result:
        result = await store.acheck("a", the_plan)
        seen.append(len(store.connections.by_loop))  # type: ignore[union-attr]
        return result

    the_plan = plan()
    assert store.check("a", the_plan)[2] == 2
    assert asyncio.run(check())[2] == 1
    assert seen == [1]  # on redis.asyncio, not in a thread


def test_ocsp_validation_is_not_dropped_on_the_async_path(settings, tls_redis):
    # The certificate names no OCSP responder: with validation asked for, the sync
    # connection refuses it, and so must the async path.
    url, ca = tls_redis
    alias = use_cache(settings, django_tls_cache(url, ssl_ca_certs=str(ca), ssl_validate_ocsp=True))
    sync, asynchronous = outcomes(get_store(alias), plan())
    assert isinstance(sync, str)
    assert "ConnectionError" in sync
    assert asynchronous == sync

"""The sandbox under gunicorn, for the tests that need a real server and for bench/e2e.py.

``prepare_database(directory)`` migrates and seeds a SQLite file once; ``start_sandbox``
copies it and serves the sandbox from the copy with ``gunicorn sandbox.wsgi`` (or another
settings module) on a free port, on the given Redis, with everything gunicorn and the
workers print captured in a log file the tests can read.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_env(database: Path, redis_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a sandbox process: its own database and Redis, DEBUG off."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
        and not key.startswith("SANDBOX_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="sandbox.settings",
        DATABASE_URL=f"sqlite:///{database}",
        SANDBOX_DEBUG="0",
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def prepare_database(directory: Path) -> Path:
    """A migrated SQLite database with the demo data, made once per directory."""
    database = directory / "template.sqlite3"
    if not database.exists():
        env = sandbox_env(database, None)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
    return database


def issue_token(database: Path, username: str = "demo") -> str:
    """A signed access token for ``username`` with all their scopes."""
    return manage(sandbox_env(database, None), "issue_token", username).strip()


@dataclass
class SandboxServer:
    """A running gunicorn; ``log`` is the file holding its output and its workers'."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path
    database: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def control_socket_args(directory: Path) -> list[str]:
    """gunicorn >= 24 opens a control socket at one path per user; each server gets its own."""
    from gunicorn import config

    if any(setting.name == "control_socket" for setting in config.KNOWN_SETTINGS):
        return ["--control-socket", str(directory / "gunicorn.ctl")]
    return []


def start_sandbox(
    directory: Path,
    template: Path,
    redis_url: str | None,
    *,
    workers: int = 2,
    name: str = "sandbox",
    gunicorn_args: tuple[str, ...] = (),
    share_database: bool = False,
    **env: str,
) -> SandboxServer:
    """Serve a copy of ``template`` (or ``template`` itself, ``share_database``) with
    ``workers`` gunicorn sync workers; wait until it answers."""
    (directory / name).mkdir(exist_ok=True)
    database = template
    if not share_database:
        database = directory / f"{name}.sqlite3"
        shutil.copyfile(template, database)
    log = directory / f"{name}.log"
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "sandbox.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "30",
                *control_socket_args(directory / name),
                *gunicorn_args,
            ],
            cwd=ROOT,
            env=sandbox_env(database, redis_url, **env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = SandboxServer(port=port, process=process, log=log, database=database)
    try:
        wait_listening(server)
    except BaseException:
        server.stop()
        raise
    return server


def wait_listening(server: SandboxServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.log_text()[-2000:]}")
        try:
            with urllib.request.urlopen(server.url("/api/v1/campaigns/"), timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start listening")

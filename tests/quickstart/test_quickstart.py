"""The quick start, done the way docs/quickstart.md says, in a project of its own.

``django-admin startproject`` makes a project in a temporary directory; every Python block
of the page whose first line names a file (``# settings.py``, ``# urls.py``,
``# views.py``) is appended to that file of the project, in the page's order. The project
is served by ``runserver`` in a process of its own, whose output is captured. When the page
drifts (a block renamed, a setting dropped), these tests fail.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from tests.fixtures.sandbox_server import free_port

pytestmark = pytest.mark.slow

PAGE = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TARGET = re.compile(r"#\s*(settings|urls|views)\.py\b")
REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")

# Not on the page: a view that crashes, to see where a 500's traceback goes.
CRASH = """
def crash(request):
    raise ZeroDivisionError("quickstart-crash-marker")

urlpatterns += [path("crash/", crash)]
"""


def page_blocks() -> list[tuple[str, str]]:
    """(file, code) for each block of the page that names the file it belongs to."""
    blocks = []
    for code in BLOCK.findall(PAGE.read_text(encoding="utf-8")):
        first = code.splitlines()[0] if code.strip() else ""
        match = TARGET.fullmatch(first.strip())
        if match:
            blocks.append((f"{match.group(1)}.py", code))
    return blocks


def test_the_page_has_the_blocks_this_test_follows() -> None:
    files = [name for name, _ in page_blocks()]
    # The settings, the error views, the logging, the throttle rate, the view and its URL.
    assert files.count("settings.py") >= 3, files
    assert files.count("urls.py") >= 2, files
    assert "views.py" in files
    settings = "".join(code for name, code in page_blocks() if name == "settings.py")
    for needed in (
        "apierrors.middleware.APIErrorsMiddleware",
        "apierrors.handler.exception_handler",
        "apierrors.views.csrf_failure",
        '"disable_existing_loggers": False',
        "apierrors.logging.RequestIDFilter",
    ):
        assert needed in settings, needed


def test_the_page_counts_the_settings_it_shows() -> None:
    text = PAGE.read_text(encoding="utf-8")
    first = next(code for name, code in page_blocks() if name == "settings.py")
    names = set(re.findall(r"^([A-Z][A-Z_]+)\b", first, re.MULTILINE))
    words = {3: "Three", 4: "Four", 5: "Five"}
    assert f"## {words[len(names)]} settings" in text, sorted(names)


@dataclass
class Project:
    url: str
    process: subprocess.Popen[str]
    log_path: Path

    def get(self, path: str) -> tuple[int, Message, dict[str, object]]:
        request = urllib.request.Request(self.url + path, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers, json.loads(error.read())

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def build_project(directory: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(directory)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    package = directory / "mysite"
    for name, code in page_blocks():
        path = package / name
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(f"{existing}\n\n{code}", encoding="utf-8")
    with (package / "urls.py").open("a", encoding="utf-8") as urls:
        urls.write(CRASH)
    return directory


def project_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "DATABASE_URL", "REDIS_URL"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    directory = build_project(tmp_path_factory.mktemp("quickstart"))
    env = project_env()
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    log_path = directory / "server.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=directory,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    project = Project(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                project.get("/nope/")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"runserver did not start:\n{project.output()}")
                time.sleep(0.2)
        yield project
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_url_that_matches_nothing_answers_the_envelope(project: Project) -> None:
    status, headers, body = project.get("/nope/")
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert REQUEST_ID.fullmatch(headers["X-Request-ID"])
    assert body["error"]["code"] == "RESOURCE_NOT_FOUND"  # type: ignore[index]
    assert body["error"]["requestId"] == headers["X-Request-ID"]  # type: ignore[index]


def test_the_throttled_view_says_where_the_client_stands(project: Project) -> None:
    status, headers, body = project.get("/hello/")
    assert (status, body) == (200, {"hello": "world"})
    assert headers["X-RateLimit-Limit"] == "100"
    remaining = int(headers["X-RateLimit-Remaining"])
    assert 0 <= remaining < 100
    assert int(headers["X-RateLimit-Reset"]) > 0
    assert REQUEST_ID.fullmatch(headers["X-Request-ID"])
    _, again, _ = project.get("/hello/")
    assert int(again["X-RateLimit-Remaining"]) == remaining - 1


def test_a_crash_answers_500_and_its_traceback_reaches_the_log(project: Project) -> None:
    status, headers, body = project.get("/crash/")
    assert status == 500
    assert body["error"]["code"] == "SERVER_ERROR"  # type: ignore[index]
    assert "quickstart-crash-marker" not in json.dumps(body)
    request_id = headers["X-Request-ID"]
    deadline = time.monotonic() + 10
    while "quickstart-crash-marker" not in project.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    output = project.output()
    assert "Traceback (most recent call last)" in output, output
    assert "ZeroDivisionError: quickstart-crash-marker" in output, output
    # The record of the failure carries the request's id, the one the client was given.
    assert re.search(rf"ERROR \[{request_id}\] django\.request: ", output), output
    # Printed once, not once more by Django's own console handler.
    assert output.count("ZeroDivisionError: quickstart-crash-marker") == 1, output

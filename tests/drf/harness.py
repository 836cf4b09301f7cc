"""Run Django REST framework's own tests against apierrors: ``python -m tests.drf.harness``.

The tests come from the sdist of the *installed* DRF version, downloaded at run time into
``.cache/drf-sdist/`` (``APIERRORS_DRF_CACHE`` overrides it) and never kept in the
repository. Only DRF's ``tests/`` and its pytest configuration are extracted; the code under
test is the installed ``rest_framework``. The plugin ``apierrors_drf_plugin`` (beside this
file) adapts the run; DRF's files are not edited. Two checks:

``throttling``
    DRF's ``tests/test_throttling.py`` with apierrors installed and apierrors' throttles in
    place of DRF's, once on LocMemCache and once on Redis (a private ``redis-server``).
``suite``
    DRF's whole suite twice: with DRF's settings (the baseline), then with apierrors'
    exception handler, middleware and app. A test that fails in the baseline is left out.

Each check compares the tests that fail (throttling) or that pass in the baseline and fail
with apierrors (suite) with its list of expected differences in this directory. A failure
not in the list, or a listed test that now passes, fails the run (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PLUGIN = "apierrors_drf_plugin"
THROTTLING_EXPECTED = HERE / "expected-throttling-differences.txt"
SUITE_EXPECTED = HERE / "expected-suite-differences.txt"
THROTTLING_TESTS = "tests/test_throttling.py"
CATEGORIES = ("design", "defect")
CHECKS = ("throttling", "suite")
# Files of the sdist that hold DRF's pytest configuration, in pytest's order of discovery.
CONFIG_FILES = ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
CONFIG_MARKERS = ("[pytest]", "[tool.pytest", "[tool:pytest]")

Outcomes = Mapping[str, Mapping[str, str]]


def cache_dir() -> Path:
    return Path(os.environ.get("APIERRORS_DRF_CACHE") or ROOT / ".cache" / "drf-sdist")


def fetch_tests(version: str, cache: Path) -> Path:
    """DRF ``version``'s ``tests/`` and pytest configuration, downloaded once into ``cache``."""
    dest = cache / f"djangorestframework-{version}"
    if (dest / "tests" / "conftest.py").is_file():
        return dest
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"djangorestframework-{version}.tar.gz"
    if not archive.is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"djangorestframework=={version}",
                "--dest",
                str(cache),
            ],
            check=True,
        )
    staging = Path(tempfile.mkdtemp(prefix="extract-", dir=cache))
    with tarfile.open(archive) as tar:
        top = f"djangorestframework-{version}/"
        wanted = [
            member
            for member in tar.getmembers()
            if member.name.startswith(top + "tests/")
            or member.name in {top + name for name in CONFIG_FILES}
        ]
        tar.extractall(staging, members=wanted, filter="data")
    shutil.rmtree(dest, ignore_errors=True)
    (staging / top).rename(dest)
    shutil.rmtree(staging)
    return dest


def pytest_config(dest: Path) -> Path:
    for name in CONFIG_FILES:
        path = dest / name
        if path.is_file() and any(marker in path.read_text() for marker in CONFIG_MARKERS):
            return path
    raise RuntimeError(f"No pytest configuration in {dest}")


def run_drf_tests(
    dest: Path, report: Path, env: Mapping[str, str], paths: Iterable[str] = ()
) -> tuple[dict[str, dict[str, str]], float]:
    """Run DRF's tests in ``dest`` with the plugin; each test's outcome, and the seconds."""
    child_env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "PYTEST_ADDOPTS"}
    }
    child_env.update(env)
    child_env["PYTHONPATH"] = str(HERE)
    child_env["APIERRORS_DRF_REPORT"] = str(report)
    report.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        PLUGIN,
        "-p",
        "no:cacheprovider",
        # DRF's own order: the baseline and the lists of differences are read in it.
        "-p",
        "no:randomly",
        "-q",
        "--no-header",
        "--tb=line",
        "--rootdir",
        str(dest),
        "-c",
        str(pytest_config(dest)),
        *paths,
    ]
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=dest, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    elapsed = time.monotonic() - started
    if not report.is_file():  # pytest itself failed (a collection or configuration error)
        sys.stdout.write(completed.stdout.decode(errors="replace"))
        raise RuntimeError(f"DRF's tests did not run (exit status {completed.returncode})")
    return json.loads(report.read_text()), elapsed


@dataclass(frozen=True)
class Expected:
    """One listed difference: the test, ``design`` or ``defect``, and why."""

    nodeid: str
    category: str
    reason: str


def load_expected(path: Path) -> dict[str, Expected]:
    """Parse ``<test id> | design: <reason>`` / ``<test id> | defect: <root cause>`` lines."""
    entries: dict[str, Expected] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        nodeid, sep, rest = line.partition(" | ")
        category, colon, reason = rest.partition(":")
        if not sep or not colon or category not in CATEGORIES or not reason.strip():
            raise ValueError(
                f"{path.name}:{number}: expected '<test id> | design: <reason>' or "
                f"'<test id> | defect: <root cause>', got {raw!r}"
            )
        if nodeid in entries:
            raise ValueError(f"{path.name}:{number}: {nodeid} is listed twice")
        entries[nodeid] = Expected(nodeid, category, reason.strip())
    return entries


@dataclass(frozen=True)
class Comparison:
    new: dict[str, str]  # failing, not listed: test id -> failure message
    fixed: list[str]  # listed, but passing
    expected: list[str]  # listed and failing

    @property
    def ok(self) -> bool:
        return not self.new and not self.fixed


def compare(failures: Mapping[str, str], expected: Mapping[str, Expected]) -> Comparison:
    """Differences found (test id -> message) against the listed ones."""
    return Comparison(
        new={nodeid: message for nodeid, message in failures.items() if nodeid not in expected},
        fixed=sorted(nodeid for nodeid in expected if nodeid not in failures),
        expected=sorted(nodeid for nodeid in expected if nodeid in failures),
    )


def failed(outcomes: Outcomes) -> dict[str, str]:
    return {
        nodeid: entry["message"]
        for nodeid, entry in outcomes.items()
        if entry["outcome"] == "failed"
    }


def regressions(baseline: Outcomes, ours: Outcomes) -> dict[str, str]:
    """Tests that pass in ``baseline`` and do not in ``ours`` (failed, skipped or not run),
    plus anything that fails in ``ours`` without existing in ``baseline`` (a module that no
    longer imports)."""
    found: dict[str, str] = {}
    for nodeid, entry in baseline.items():
        if entry["outcome"] != "passed":
            continue
        mine = ours.get(nodeid)
        if mine is None:
            found[nodeid] = "not run"
        elif mine["outcome"] != "passed":
            found[nodeid] = mine["message"] or mine["outcome"]
    for nodeid, message in failed(ours).items():
        if nodeid not in baseline:
            found[nodeid] = message
    return found


def count(outcomes: Outcomes, outcome: str) -> int:
    return sum(1 for entry in outcomes.values() if entry["outcome"] == outcome)


def report_comparison(title: str, comparison: Comparison, listed: Path) -> bool:
    print(
        f"{title}: {len(comparison.expected)} expected differences, "
        f"{len(comparison.new)} new, {len(comparison.fixed)} listed but passing"
    )
    for nodeid, message in sorted(comparison.new.items()):
        print(f"  NEW      {nodeid}\n           {message}")
    for nodeid in comparison.fixed:
        print(f"  PASSING  {nodeid} (remove it from {listed.name})")
    return comparison.ok


@contextmanager
def redis_url() -> Iterator[str | None]:
    """A private redis-server's URL (``None`` when redis-server is missing outside CI)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("APIERRORS_REQUIRE_SERVICES") == "1":
            raise RuntimeError("redis-server is not on PATH (APIERRORS_REQUIRE_SERVICES=1)")
        yield None
        return
    from tests.fixtures.services import start_redis

    server = start_redis()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


def check_throttling(dest: Path, reports: Path) -> bool:
    expected = load_expected(THROTTLING_EXPECTED)
    ok = True
    with redis_url() as url:
        for backend in ("locmem", "redis"):
            if backend == "redis" and url is None:
                print("throttling [redis]: SKIPPED, redis-server is not on PATH")
                continue
            env = {"APIERRORS_DRF_INSTALL": "1", "APIERRORS_DRF_THROTTLES": "1"}
            if backend == "redis":
                assert url is not None
                env["APIERRORS_DRF_REDIS_URL"] = url
            outcomes, seconds = run_drf_tests(
                dest, reports / f"throttling-{backend}.json", env, [THROTTLING_TESTS]
            )
            print(
                f"throttling [{backend}]: {count(outcomes, 'passed')} passed, "
                f"{count(outcomes, 'failed')} failed, {count(outcomes, 'skipped')} skipped "
                f"in {seconds:.1f}s"
            )
            comparison = compare(failed(outcomes), expected)
            ok = (
                report_comparison(f"throttling [{backend}]", comparison, THROTTLING_EXPECTED) and ok
            )
    return ok


def check_suite(dest: Path, reports: Path) -> bool:
    expected = load_expected(SUITE_EXPECTED)
    # The two runs are independent processes: run them side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        drf_run = pool.submit(run_drf_tests, dest, reports / "suite-drf.json", {})
        our_run = pool.submit(
            run_drf_tests, dest, reports / "suite-apierrors.json", {"APIERRORS_DRF_INSTALL": "1"}
        )
        baseline, seconds = drf_run.result()
        ours, our_seconds = our_run.result()
    print(
        f"suite [DRF's handler]: {count(baseline, 'passed')} passed, "
        f"{count(baseline, 'failed')} failed (left out), {count(baseline, 'skipped')} skipped "
        f"in {seconds:.1f}s"
    )
    broken = regressions(baseline, ours)
    print(
        f"suite [apierrors]: {count(ours, 'passed')} passed, {count(ours, 'failed')} failed, "
        f"{count(ours, 'skipped')} skipped in {our_seconds:.1f}s; {len(broken)} tests pass "
        "with DRF's handler and not with apierrors'"
    )
    return report_comparison("suite [apierrors]", compare(broken, expected), SUITE_EXPECTED)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "checks",
        nargs="*",
        metavar="{throttling,suite}",
        help="what to run (default: both)",
    )
    args = parser.parse_args(argv)
    checks = args.checks or list(CHECKS)
    for check in checks:
        if check not in CHECKS:
            parser.error(f"unknown check {check!r}; choose from {', '.join(CHECKS)}")
    version = installed_version("djangorestframework")
    dest = fetch_tests(version, cache_dir())
    reports = dest / "reports"
    reports.mkdir(exist_ok=True)
    print(f"Django REST framework {version}: tests in {dest}")
    ok = True
    if "throttling" in checks:
        ok = check_throttling(dest, reports) and ok
    if "suite" in checks:
        ok = check_suite(dest, reports) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

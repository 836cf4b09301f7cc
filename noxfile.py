"""The version matrix: every supported Python, Django and Django REST framework together.

    .venv/bin/nox                      # the whole matrix (docs/contributing.md)
    .venv/bin/nox -s lowest newest     # what CI runs: every floor, then every newest release
    .venv/bin/nox -l                   # the sessions

Each session runs the fast tests (``-m "not slow"``) on two processes; arguments after
``--`` replace those pytest arguments. The interpreters are found on PATH, and in pyenv's
versions when pyenv is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nox

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - nox runs from the dev virtualenv, Python 3.11 or newer
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
# uv must use the interpreters of this machine, never download one.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def _add_pyenv_pythons() -> None:
    """Put each pyenv version's bin/ on PATH, so that ``python3.12`` and the like resolve."""
    pyenv = shutil.which("pyenv")
    root = os.environ.get("PYENV_ROOT")
    if not root and pyenv:
        root = subprocess.run(
            [pyenv, "root"], capture_output=True, text=True, check=False
        ).stdout.strip()
    versions = Path(root or Path.home() / ".pyenv") / "versions"
    if not versions.is_dir():
        return
    dirs = [str(path / "bin") for path in sorted(versions.iterdir()) if (path / "bin").is_dir()]
    os.environ["PATH"] = os.pathsep.join([*os.environ.get("PATH", "").split(os.pathsep), *dirs])


_add_pyenv_pythons()

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# Django release -> the Pythons it supports (Django 6 needs 3.12 or newer).
DJANGO_PYTHONS = {
    "5.2": PYTHONS,
    "6.0": ["3.12", "3.13"],
    "6.1": ["3.12", "3.13"],
}
# Django REST framework release -> the Django releases it declares support for. (3.15 and
# 3.16 are below the floor: they parse a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE.)
DRF_DJANGOS = {
    "3.17": ["5.2", "6.0"],
    "3.18": ["5.2", "6.0", "6.1"],
}
MATRIX = [
    (python, django, drf)
    for django, pythons in DJANGO_PYTHONS.items()
    for drf, djangos in DRF_DJANGOS.items()
    if django in djangos
    for python in pythons
]

# The extras a user may install; their floors are what "lowest" pins.
RUNTIME_EXTRAS = ["redis", "openapi", "jwt", "sandbox"]
DEFAULT_PYTEST = ["-n", "2", "-m", "not slow", "-q"]


def _run_tests(session: nox.Session) -> None:
    session.run(
        "python",
        "-c",
        "import django, rest_framework; print('Django', django.__version__,"
        " 'DRF', rest_framework.VERSION)",
    )
    session.run("pytest", *(session.posargs or DEFAULT_PYTEST))


@nox.session(name="tests")
@nox.parametrize(
    ("python", "django", "drf"),
    MATRIX,
    ids=[f"py{python}-django{django}-drf{drf}" for python, django, drf in MATRIX],
)
def tests(session: nox.Session, django: str, drf: str) -> None:
    """One Python, one Django release and one Django REST framework release."""
    session.install("-e", ".[test]", f"django=={django}.*", f"djangorestframework=={drf}.*")
    _run_tests(session)


def floor_constraints() -> list[str]:
    """``name==floor`` for every direct dependency and every runtime extra's dependency."""
    requirements = list(PYPROJECT["project"]["dependencies"])
    extras = PYPROJECT["project"]["optional-dependencies"]
    for extra in RUNTIME_EXTRAS:
        requirements += [req for req in extras[extra] if not req.startswith("drf-apierrors")]
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?>=([^,;\s]+)", requirement.strip())
        if match is None:
            raise ValueError(f"{requirement!r} has no plain >= floor")
        name, _, floor = match.groups()
        if pins.setdefault(name.lower(), floor) != floor:
            raise ValueError(f"{name} has two floors in pyproject.toml")
    return [f"{name}=={floor}" for name, floor in sorted(pins.items())]


@nox.session(python=PYTHONS[0])
def lowest(session: nox.Session) -> None:
    """The oldest Python with every dependency and extra at the floor pyproject.toml declares."""
    constraints = Path(session.create_tmp()) / "floors.txt"
    constraints.write_text("\n".join(floor_constraints()) + "\n", encoding="utf-8")
    session.log("floors: " + ", ".join(floor_constraints()))
    session.install("-c", str(constraints), "-e", ".[test]")
    _run_tests(session)


@nox.session(python=PYTHONS[-1])
def newest(session: nox.Session) -> None:
    """The newest Python with the newest release of everything."""
    session.install("--upgrade", "-e", ".[test]")
    _run_tests(session)

# The two commands of the README: `make run` serves the sandbox, `make test` runs the checks.
# Each bootstraps its own virtualenv in .venv from pyproject.toml on first use: `make run`
# installs only what the sandbox needs (the `sandbox` extra), the others the dev toolchain.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
SANDBOX_STAMP := $(VENV)/.installed-sandbox

.PHONY: run test lint typecheck pytest docs bench clean dist dist-test matrix

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(SANDBOX_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[sandbox]'
	touch $(SANDBOX_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(SANDBOX_STAMP)

# `make run PORT=8001` when 8000 is taken.
run: $(SANDBOX_STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Fast tests on two processes; the slow ones (servers, outages, many processes) after them,
# one at a time, so their timing is not disturbed by the rest. Both runs measure the branch
# coverage of apierrors/ (in the test processes, not in the servers they start), the second
# appending to the first; the report then prints the total and fails under the floor of
# [tool.coverage.report] in pyproject.toml. The test order is random (pytest-randomly): a
# failure prints the seed that repeats it (docs/contributing.md).
COV := --cov --cov-report= --cov-fail-under=0

pytest: $(STAMP)
	rm -f .coverage .coverage.*
	$(BIN)/pytest -n 2 -m "not slow" $(COV) $(PYTEST_ARGS)
	$(BIN)/pytest -m slow $(COV) --cov-append $(PYTEST_ARGS)
	$(BIN)/coverage report

test: lint typecheck pytest

# The wheel and the sdist, in dist/, their metadata checked.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# The fast tests against the built wheel, installed in a fresh virtualenv (.ci/dist-test).
dist-test: $(STAMP)
	BIN=$(BIN) .ci/dist-test $(PYTEST_ARGS)

# Every supported Python x Django x DRF, and the floors (noxfile.py, docs/contributing.md).
matrix: $(STAMP)
	$(BIN)/nox $(NOX_ARGS)

# Django REST framework's own tests against apierrors (docs/drf-compat.md): its throttling
# tests with apierrors' throttles, its whole suite with apierrors' handler and middleware.
.PHONY: drf-suite
drf-suite: $(STAMP)
	$(BIN)/python -m tests.drf.harness

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .nox dist build docs/_build .pytest_cache .mypy_cache .ruff_cache

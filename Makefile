# The two commands of the README: `make run` serves the sandbox, `make test` runs the checks.
# Each bootstraps its own virtualenv in .venv from pyproject.toml on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck pytest docs bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Fast tests on two processes; the slow ones (servers, outages, many processes) after them,
# one at a time, so their timing is not disturbed by the rest.
pytest: $(STAMP)
	$(BIN)/pytest -n 2 -m "not slow" $(PYTEST_ARGS)
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

test: lint typecheck pytest

# Django REST framework's own tests against apierrors (docs/drf-compat.md): its throttling
# tests with apierrors' throttles, its whole suite with apierrors' handler and middleware.
.PHONY: drf-suite
drf-suite: $(STAMP)
	$(BIN)/python -m tests.drf.harness

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build .pytest_cache .mypy_cache .ruff_cache

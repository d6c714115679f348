# Two commands: `make run` starts Mantle on the embedded default; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
MANTLE := $(VENV)/bin/mantle
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint deps deps-dev browser ui wheel clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

deps: $(UV)
	$(UV) sync --locked --no-dev --inexact

deps-dev: $(UV)
	$(UV) sync --locked

# The web app (ui/): rebuilt only when its sources or the server's API changed.
ui: deps
	@PY=$(VENV)/bin/python bash scripts/build-ui

# A wheel that carries the built web app (dist/mantle-*.whl).
wheel: ui
	$(UV) build --wheel --out-dir dist

run: deps ui
	$(MANTLE) db upgrade
	$(MANTLE) server

browser:
	@bash scripts/ensure-chromium

# Test files are spread over the machine's cores (PYTEST_WORKERS=0 runs them in one process).
# Python may cache compiled modules even where PYTHONDONTWRITEBYTECODE is set: the suite starts
# hundreds of `mantle` processes, and without the cache each one compiles every module it
# imports again (a whoami: 1.4 s of CPU instead of 0.5 s).
PYTEST_WORKERS ?= auto
test: deps-dev browser ui
	PYTHONDONTWRITEBYTECODE= $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: deps-dev
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache ui/node_modules src/mantle/web/ui_dist

# Two commands for a fresh machine with only python3 and pip:
#   make demo   set everything up, run the sample campaign against the built-in sandbox
#   make test   set everything up, run every check (ruff, mypy --strict, pytest)
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
VENV_STAMP := .venv/.synced

.PHONY: demo test lint typecheck pytest bench setup clean

setup: $(VENV_STAMP)

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check 'uv>=0.13,<0.14'

$(VENV_STAMP): pyproject.toml uv.lock $(if $(filter $(TOOLS)/bin/uv,$(UV)),$(TOOLS)/bin/uv)
	$(UV) sync --locked
	@touch $@

BIN := .venv/bin
PY_DIRS := runner tests $(wildcard bench samples)

demo: $(VENV_STAMP)
	$(BIN)/runner demo

lint: $(VENV_STAMP)
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

typecheck: $(VENV_STAMP)
	$(BIN)/mypy --strict runner

pytest: $(VENV_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(VENV_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf .venv $(TOOLS) .mypy_cache .ruff_cache .pytest_cache

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

.PHONY: demo test lint typecheck pytest bench soak setup clean

setup: $(VENV_STAMP)

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check 'uv>=0.13,<0.14'

# --compile-bytecode: every python process the tests start (pytest workers, `runner run`
# children) then imports polars, pydantic, ... from .pyc instead of compiling them again.
$(VENV_STAMP): pyproject.toml uv.lock $(if $(filter $(TOOLS)/bin/uv,$(UV)),$(TOOLS)/bin/uv)
	$(UV) sync --locked --compile-bytecode
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

# The suite runs on PYTEST_WORKERS pytest-xdist workers: most of its time is spent waiting
# (sandboxes, retries, rate limits, child processes), so more workers than cores pays off.
# Bytecode is cached for this run even if PYTHONDONTWRITEBYTECODE is set (each worker and
# child would otherwise compile the runner and the tests again). Test folders go to
# TEST_TMP, a RAM disk where there is one (every ledger commit is fsynced); a passing run
# removes its folder, a failing one keeps it and says where. Slow scenarios are marked
# `slow`: `make pytest PYTEST_ARGS='-m "not slow"'` skips them for a quicker look.
PYTEST_WORKERS ?= 6
PYTEST_ARGS ?=
TEST_TMP ?= $(firstword $(wildcard /dev/shm) $(or $(TMPDIR),/tmp))
pytest: $(VENV_STAMP)
	tmp=$$(mktemp -d "$(TEST_TMP)/campaign-runner-tests.XXXXXX") && \
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal \
		--basetemp="$$tmp" $(PYTEST_ARGS) && rm -rf "$$tmp" || \
		{ code=$$?; echo "test folders kept in $$tmp"; exit $$code; }

test: lint typecheck pytest

# Side-by-side figures (about 3 minutes; never part of `make test`): one table, and
# bench/results.json. `make bench BENCH_ARGS=--quick` runs smaller sizes in a minute.
BENCH_ARGS ?=
bench: $(VENV_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The chaos soak (about 5-10 minutes; never part of `make test`, whose tests/chaos runs a
# small one): seeded campaigns run to the end while the runner is SIGKILLed, the sandbox
# restarted and the state dir deleted and adopted, with every fault on; prints the figures
# (kills, restarts, faults, duplicates, grants lost) as JSON and fails if any invariant broke.
SOAK_ARGS ?= --seed 1 --campaigns 4 --grants 1000 --vouchers 3 --kills 6 \
	--sandbox-restarts 2 --deletions 2
soak: $(VENV_STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m tests.chaos.driver $(SOAK_ARGS)

clean:
	rm -rf .venv $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
	find runner tests -name __pycache__ -prune -exec rm -rf {} +

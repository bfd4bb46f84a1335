# Two commands do all the set-up on a fresh machine with python3 (3.11+) and git:
#   make demo   chat with Bridges offline (sandbox Telegram, SQLite)
#   make test   lint, type-check, check the lessons and run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint wheel-check run install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bridges demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/bridges lessons check
	# Parallel (pytest-xdist, 4 workers: much of the suite waits on subprocesses and sockets),
	# then the few tests marked `serial` alone: they measure against real time (tests/README.md).
	PTB_TIMEDELTA=1 $(BIN)/pytest -rs -n 4 -m "not serial"
	PTB_TIMEDELTA=1 $(BIN)/pytest -rs -m serial
	./.ci/wheel-check

# The wheel as a user installs it, in a fresh venv outside the checkout.
wheel-check:
	./.ci/wheel-check

run: $(STAMP)
	$(BIN)/bridges run

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Two commands on a fresh machine (see README):
#   make demo   set everything up, then answer a question about the bundled seed article
#   make test   set everything up with the test tools, then lint and run the whole suite (CI runs this)
#   make test-fast  the fast tier alone (fakes only, no process, no real model): the edit-test loop
# Both only need python3 (3.11+) with venv and a C compiler (llama-cpp-python builds from source
# for the local-model tests, about 5 minutes the first time); everything else comes from PyPI.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= Quanti chip Ascend 910B ha ordinato ByteDance?

.PHONY: demo test test-fast lint setup setup-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the CPU build that installs from local disk; an unpinned one pulls CUDA (GBs).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,local,ray]'
	touch $@

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

demo: setup
	$(BIN)/rag ask "$(QUESTION)"

lint: setup-dev
	$(BIN)/ruff check index rag tui tests bench
	$(BIN)/mypy index rag tui

test: setup-dev lint
	$(BIN)/python -m pytest -q

test-fast: setup-dev
	$(BIN)/python -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

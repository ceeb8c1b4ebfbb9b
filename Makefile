# Every target creates or reuses .venv and installs what it needs, so a fresh clone works as is.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Pinned so CPU-only machines take the CPU wheel instead of gigabytes of CUDA packages.
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test bench lint train clean-venv help

help:
	@echo "make demo   - run the whole pipeline on the bundled example data (data/)"
	@echo "make test   - install datacraft[dev] and run the test suite"
	@echo "make bench  - run the benchmarks in bench/ (results: docs/benchmarks.md)"
	@echo "make lint   - ruff"
	@echo "make train  - install datacraft[train] and train a tiny LoRA on the example data"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed-base

$(VENV)/.installed-train: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet '$(TORCH_SPEC)'
	$(BIN)/python -m pip install --quiet -e '.[dev,train]' '$(TORCH_SPEC)'
	@touch $@ $(VENV)/.installed-dev $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(BIN)/datacraft run data/pipeline.yaml

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check datacraft tests bench

clean-venv:
	rm -rf $(VENV)

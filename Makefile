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
	$(BIN)/python -m pip install --quiet -e '.[dev,train,ray]' '$(TORCH_SPEC)'
	@touch $@ $(VENV)/.installed-dev $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(BIN)/datacraft run data/pipeline.yaml

# The train and ray extras are installed too, so the trainer's and the Ray executor's tests run (on CPU).
test: $(VENV)/.installed-train
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check datacraft tests bench

# A tiny Llama-style model (tokenizer trained on the data, random weights) so this runs anywhere in
# about a minute; one thread because tiny matmuls lose more to threading than they gain.
train: $(VENV)/.installed-train
	$(BIN)/datacraft clean data/examples/raw.jsonl -o out/train/clean.jsonl --rejects out/train/rejects.jsonl
	$(BIN)/python -m datacraft.train.tiny out/train/tiny-model --data out/train/clean.jsonl
	OMP_NUM_THREADS=1 $(BIN)/datacraft train --data out/train/clean.jsonl --model out/train/tiny-model \
		-o out/train/run --epochs 5 --lr 1e-2 --batch-size 4 --max-length 256
	rm -rf out/train/merged
	$(BIN)/datacraft merge out/train/run -o out/train/merged

clean-venv:
	rm -rf $(VENV)

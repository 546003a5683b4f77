# Two entry points: `make run` (install, index the default seeds, serve) and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
SEEDS   ?= seeds
INDEX   ?= var/index
HOST    ?= 127.0.0.1
PORT    ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run index test lint bench clean browser

$(BIN)/python:
	$(PY) -m venv $(VENV)

# The stamp is refreshed whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/qa export-onnx
	touch $@

install: $(VENV)/.installed

index: install
	$(BIN)/qa index --seeds $(SEEDS) --index $(INDEX)

run: index
	$(BIN)/qa serve --index $(INDEX) --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
CHROMIUM := /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

browser: $(CHROMIUM)

test: install browser
	$(BIN)/ruff check index qa web cli tests bench train eval
	$(BIN)/python -m pytest -q

# Performance tables (ONNX vs torch, ingest, latency, throughput, memory, HNSW vs flat).
bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf var .pytest_cache

# Two commands for a newcomer (see README.md):
#   make demo   install the locked environment and render a small labelled dataset (out/demo)
#   make test   run the test suite (what CI runs)
PYTHON ?= python3
UV := $(PYTHON) -m uv
FRAMES ?= 8
RUN := $(UV) run --frozen --no-sync

.PHONY: setup demo test lint bench

setup: .venv/.simvision-synced

.venv/.simvision-synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv>=0.5,<1"
	$(UV) sync --frozen --all-extras --python 3.11
	@touch $@

demo: setup
	$(RUN) simvision-render output_dir=out/demo num_frames=$(FRAMES)
	@echo "dataset written to out/demo (COCO: out/demo/annotations/instances.json)"

test: setup
	$(RUN) python -m pytest

lint: setup
	$(RUN) ruff check simvision tests scripts
	$(RUN) ruff format --check simvision tests scripts

bench: setup
	$(RUN) python scripts/benchmark_render.py
	$(RUN) python scripts/benchmark_workers.py

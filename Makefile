# advreg: `make run` (default reduced-scale pipeline + HTML report) and `make test` (the test suite).
# Both create .venv from requirements.lock first.  Idempotent: a second `make run` does nothing new.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.advreg-installed
SNAKEMAKE := $(BIN)/snakemake
UV_PIP := $(BIN)/uv pip install --python $(BIN)/python --compile-bytecode
CORES ?= all
FASHION_DIR := /usr/share/datasets/fashion-mnist

.PHONY: run test test-slurm setup system-data style lint dry-run clean expected verify screenshots

setup: $(STAMP)

# uv installs the locks (hash-checked as pip would, in half the time); pip installs uv itself from its own lock. Bytecode
# is compiled at install time, as pip does: where PYTHONDONTWRITEBYTECODE is set (the development machines) no job
# writes any, and each job's imports cost 2.5 s more without it.
$(STAMP): requirements.lock requirements-reference.lock requirements-uv.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-uv.lock
	$(UV_PIP) --quiet --require-hashes -r requirements.lock
	$(UV_PIP) --quiet --require-hashes --no-deps -r requirements-reference.lock
	$(UV_PIP) --quiet --no-deps --no-build-isolation -e .
	@touch $@

# Fashion-MNIST, the default preset's dataset, cannot be downloaded on machines without internet;
# Debian ships it offline.  Installed only when it is missing, apt is there and we are root.
system-data:
	@if [ ! -d $(FASHION_DIR) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "advreg: installing Debian's dataset-fashion-mnist (offline copy of Fashion-MNIST; the data rule still verifies its pinned checksums)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	fi

run: setup system-data
	$(BIN)/python tools/unlock_stale.py -- $(SNAKEMAKE)
	$(SNAKEMAKE) --cores $(CORES)
	@if [ ! -f results/report.html ] || [ -n "$$(find results -type f -newer results/report.html ! -name report.html -print -quit)" ]; then \
	  $(SNAKEMAKE) --report results/report.html; \
	else echo "results/report.html is up to date"; fi

# Style first (seconds), then the suite: ruff (lint and format, line length 120), snakefmt, Snakemake's lint.
test: setup system-data style
	$(BIN)/python -m pytest

style: setup
	$(BIN)/python -m advreg.catalog check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(SNAKEMAKE) --lint

# A real single-node SLURM (root, Debian): the tiny config through profiles/slurm, checked against a local run.
test-slurm: setup
	bash tests/cluster/run_slurm_ci.sh

lint: style

# The SHA256 of every reproducible result of the default preset, one committed file per CPU vendor
# (config/expected/default-<vendor>.sha256, the vendor as /proc/cpuinfo names it): `make expected` records them from
# results/ (after `make run`); `make verify` recomputes a run's hashes and names every file that differs, is missing
# or is not expected.  Two runs on one kind of machine give the same bits; an Intel Xeon and an AMD EPYC do not
# (README, Reproducibility and integrity), hence a file per vendor.  EXPECTED=<file> picks another.
CPU_VENDOR := $(or $(shell grep -m1 -o -E 'GenuineIntel|AuthenticAMD' /proc/cpuinfo 2>/dev/null),unknown)
EXPECTED ?= config/expected/default-$(CPU_VENDOR).sha256
expected: setup
	$(BIN)/python -m advreg.provenance expected results $(EXPECTED)

verify: setup
	@test -f $(EXPECTED) || { echo "advreg: no expected hashes for this CPU vendor ($(EXPECTED)); record them with 'make expected' after 'make run', or give EXPECTED=<file>"; exit 2; }
	$(BIN)/python -m advreg.provenance verify results $(EXPECTED)

dry-run: setup
	$(SNAKEMAKE) -n

# docs/screenshots/*.png (README): the Summary, a paper's table and the arena leaderboard at 1400 x 1000, taken in
# headless Chromium from results/report.html (after `make run`).
screenshots: setup
	$(BIN)/python scripts/report_screenshots.py results/report.html docs/screenshots

clean:
	rm -rf results logs .snakemake

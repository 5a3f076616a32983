# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Where `make demo` and `make serve` listen: HOST/PORT on the make command line
# (`make demo PORT=8080`), else OMNIORDER_HOST/OMNIORDER_PORT from the environment
# (`OMNIORDER_PORT=8080 make demo`), else 127.0.0.1:8000.
ifneq ($(origin HOST),command line)
  ifdef OMNIORDER_HOST
    HOST := $(OMNIORDER_HOST)
  endif
endif
ifneq ($(origin PORT),command line)
  ifdef OMNIORDER_PORT
    PORT := $(OMNIORDER_PORT)
  endif
endif
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install dev lint typecheck pytest serve clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# requirements.lock pins (with hashes) every package the service, the demo, the simulator
# and the dev tools use: what CI tests is what a newcomer gets. `make lock` refreshes it.
LOCK := requirements.lock

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	touch $@

lock: | $(BIN)/python
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra demo --extra sim \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	  --generate-hashes --no-header -o $(LOCK)

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

## make demo: install, migrate the embedded database, load the demo network, serve API + docs
## on http://127.0.0.1:8000 unless told otherwise: make demo PORT=8080 (see HOST/PORT above).
# The demo's admin key; set your own for anything but a local demo.
demo serve: export OMNIORDER_ADMIN_KEY ?= demo-admin-key
demo serve: export OMNIORDER_HOST = $(HOST)
demo serve: export OMNIORDER_PORT = $(PORT)
demo: install
	$(BIN)/omniorder db upgrade
	$(BIN)/omniorder demo load
	$(BIN)/omniorder serve --host $(HOST) --port $(PORT)

## make test: ruff, mypy --strict on src/, the whole pytest suite (SQLite, and PostgreSQL when
## OMNIORDER_TEST_DATABASE_URL is set). Exit code 5 (no tests collected) is not a failure.
test: dev lint typecheck pytest

lint: dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: dev
	$(BIN)/mypy

pytest: dev
	$(BIN)/pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

serve: install
	$(BIN)/omniorder serve --host $(HOST) --port $(PORT)

clean:
	rm -rf $(VENV) var/*.db var/*.db-* .mypy_cache .pytest_cache .ruff_cache .hypothesis

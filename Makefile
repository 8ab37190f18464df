# The two commands the README starts with:
#   make demo   set up, build the demo fleet, scan it into SQLite, serve the portal on 127.0.0.1:8000
#   make test   set up (Python venv and the Debian packages the tests run against) and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO := .demo
# Real components the tests use: amtool (routing oracle), Prometheus, Chromium (pages), poppler (PDFs),
# Pango and fonts (WeasyPrint), git.
DEBIAN_PACKAGES := git prometheus prometheus-alertmanager chromium poppler-utils \
	libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck setup system-packages docs bench bench-portal clean

demo: setup
	$(BIN)/prr demo create $(DEMO) --force --history
	$(BIN)/prr scan --config $(DEMO)/prr.yaml
	$(BIN)/prr serve --config $(DEMO)/prr.yaml --host $(HOST) --port $(PORT)

test: setup system-packages
	$(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

setup: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

system-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Style and types are gates: `make test` fails on them.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy reads the installed `prr` namespace from a tree of links, as the package maps it.
typecheck: setup
	rm -rf build/typecheck && mkdir -p build/typecheck
	cp -as $(CURDIR)/app build/typecheck/prr
	for d in checks schemas scorecards; do ln -s $(CURDIR)/$$d build/typecheck/prr/$$d; done
	cd build/typecheck && $(CURDIR)/$(BIN)/mypy -p prr

docs: setup
	$(BIN)/prr checks --format markdown > docs/checks.md

clean:
	rm -rf $(VENV) $(DEMO) *.egg-info

bench: setup
	$(BIN)/python bench/scan_fleet.py

# The portal's reads on 5,000 services with a year of weekly scans, SQLite then PostgreSQL (~30 min).
bench-portal: setup
	$(BIN)/python bench/portal_reads.py

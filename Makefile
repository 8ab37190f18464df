# The two commands the README starts with:
#   make demo   set up, build the demo fleet, scan it into SQLite, serve the portal on 127.0.0.1:8000
#   (make demo-live: the same with a local Prometheus and Alertmanager for the live checks)
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

.PHONY: demo demo-live test lint typecheck setup system-packages docs bench bench-scale bench-portal bench-report clean plugin-test

demo: setup
	$(BIN)/prr demo create $(DEMO) --force --history
	$(BIN)/prr scan --config $(DEMO)/prr.yaml
	$(BIN)/prr demo tokens $(DEMO) --url http://$(HOST):$(PORT)
	$(BIN)/prr serve --config $(DEMO)/prr.yaml --host $(HOST) --port $(PORT)

# Prometheus and Alertmanager on 127.0.0.1 (free ports) with the demo fleet's rules, named in the
# demo config while the portal runs; both stop when it stops.
demo-live: setup
	$(BIN)/prr demo create $(DEMO) --force --history
	$(BIN)/prr demo live $(DEMO) -- sh -c '$(BIN)/prr scan --config $(DEMO)/prr.yaml && \
		$(BIN)/prr demo tokens $(DEMO) --url http://$(HOST):$(PORT) && \
		exec $(BIN)/prr serve --config $(DEMO)/prr.yaml --host $(HOST) --port $(PORT)'

test: setup system-packages lint typecheck plugin-test
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

# The monthly report of a 1,000-service fleet with six months of weekly scans: time and peak memory.
bench-report: setup
	$(BIN)/python bench/monthly_report.py --services 1000 --weeks 26

# The portal's reads on 5,000 services with a year of weekly scans, SQLite then PostgreSQL (~30 min).
bench-portal: setup
	$(BIN)/python bench/portal_reads.py

# 500 generated repos: scan vs floor, unchanged rescans, 1 vs 2 Celery workers, worker memory.
# Needs Redis and PostgreSQL on 127.0.0.1 (as the tests do); figures go in bench/RESULTS.md.
bench-scale: setup
	$(BIN)/python bench/scale.py --repos 500

# The Backstage plugin: install (again only when package-lock.json changed), lint, type check, test, build.
PLUGIN := backstage-plugin
plugin-test: $(PLUGIN)/node_modules/.installed
	cd $(PLUGIN) && npx backstage-cli package lint
	cd $(PLUGIN) && npx tsc
	cd $(PLUGIN) && CI=true npx backstage-cli package test --watchAll=false
	cd $(PLUGIN) && npx backstage-cli package build

$(PLUGIN)/node_modules/.installed: $(PLUGIN)/package-lock.json
	cd $(PLUGIN) && npm ci --no-audit --no-fund
	touch $@

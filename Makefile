# Every target is idempotent: after `make install`, `make -q install` exits 0 and a second run
# does nothing. Only `make js` (when sources changed) builds the panel's bundle; no target but
# `make lock` changes a tracked file.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements.lock
PIP_STAMP := $(VENV)/.installed
NPM_STAMP := js/node_modules/.installed
PRISM_STAMP := tests/contract/node_modules/.installed
BUNDLE := twilio_widget/static/widget.js
JS_SOURCES := $(wildcard js/src/*.ts js/src/*.css) js/package.json js/scripts/copy-css.mjs
CHROMIUM ?= $(firstword $(wildcard /usr/lib/chromium/chromium /usr/bin/chromium /usr/bin/chromium-browser))
# PostgreSQL's server binaries (Debian's layout): the routing tests run on a throwaway server too.
PG_INITDB ?= $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) $(shell command -v initdb 2>/dev/null))
# The editable install must not run the npm build hook: it would rewrite the bundle and
# js/package-lock.json behind make's back.
NO_JS_HOOK := SKIP_JUPYTER_BUILDER=1
# What the editable install builds with (no build isolation, so these come from the lock too).
BUILD_TOOLS := hatchling hatch-jupyter-builder editables
PIP_INSTALL := $(NO_JS_HOOK) $(PY) -m pip install --quiet --disable-pip-version-check
DEMO_HOME := .jupyter-demo
DEMO_NOTEBOOKS := $(patsubst notebooks/%,$(DEMO_HOME)/notebooks/%,$(wildcard notebooks/*.ipynb))
DEMO_ARGS ?=
DEMO_FRONTEND ?= lab

.PHONY: install js lock lint test test-py test-js test-e2e wheel demo demo-marimo chromium postgresql clean bench bench-contacts bench-history bench-routing bench-session bench-rules bench-demo

install: $(PIP_STAMP) $(NPM_STAMP) $(BUNDLE)

# Exact versions from the lock for everything the tests, the demo and the build use; the
# package's own ranges in pyproject.toml stay open for users of the wheel.
$(PIP_STAMP): $(LOCK) pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) "$$(grep -m1 '^pip==' $(LOCK))"
	$(PIP_INSTALL) -c $(LOCK) $(BUILD_TOOLS)
	$(PIP_INSTALL) -c $(LOCK) --no-build-isolation -e ".[test,dev]"
	touch $@

$(NPM_STAMP): js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund
	touch $@

$(PRISM_STAMP): tests/contract/package.json tests/contract/package-lock.json
	cd tests/contract && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

$(BUNDLE): $(NPM_STAMP) $(JS_SOURCES)
	cd js && npm run build

js: $(BUNDLE)

# Refresh the locks to today's newest releases within the declared ranges; run `make test` after.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	$(NO_JS_HOOK) .venv-lock/bin/python -m pip install --quiet --upgrade pip $(BUILD_TOOLS)
	$(NO_JS_HOOK) .venv-lock/bin/python -m pip install --quiet --upgrade --no-build-isolation -e ".[test,dev]"
	{ echo "# Written by 'make lock' from pyproject.toml ($$(.venv-lock/bin/python -V)): the exact versions"; \
	  echo "# 'make install' uses for tests, demo and build. Users of the wheel get pyproject's ranges."; \
	  .venv-lock/bin/python -m pip freeze --all --exclude-editable; } > $(LOCK)
	rm -rf .venv-lock
	cd js && npm update --package-lock-only --no-audit --no-fund
	cd tests/contract && npm update --package-lock-only --no-audit --no-fund

lint: install
	$(VENV)/bin/ruff check twilio_widget tests benchmarks scripts
	cd js && npm run typecheck

# The routing tests start a throwaway server of their own (scripts/throwaway_postgres.py); without
# one they skip saying why, except under CI=true, where they fail.
test-py: install $(PRISM_STAMP) postgresql
	$(PY) -m pytest -m "not e2e" -q

test-js: $(NPM_STAMP)
	cd js && npm test

# Debian's chromium when root and missing; otherwise whatever browser is there.
chromium:
	@if [ -z "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# Debian's PostgreSQL server when root and missing; otherwise whatever is there.
postgresql:
	@if [ -z "$(PG_INITDB)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

test-e2e: install chromium
	$(PY) -m pytest -m e2e -q

wheel: install
	rm -rf dist
	$(PY) -m build --wheel --sdist --no-isolation --outdir dist . >/dev/null
	$(PY) tests/check_dist.py dist

test: lint test-py test-js test-e2e wheel

# Benchmarks print their figures and the ratio against a named baseline (benchmarks/README.md).
bench: bench-contacts bench-history bench-routing bench-session bench-rules bench-demo

bench-contacts: install
	$(PY) benchmarks/contacts_bench.py

bench-history: install
	$(PY) benchmarks/rest_history_bench.py

bench-routing: install
	$(PY) benchmarks/routing_load_bench.py --check

bench-session: install
	$(PY) benchmarks/session_bench.py

bench-rules: install
	$(PY) benchmarks/rules_bench.py

bench-demo: install
	$(PY) benchmarks/demo_start_bench.py

# The demo runs on copies of the notebooks (refreshed when the originals change), with its
# own Jupyter settings in $(DEMO_HOME): outputs and edits never touch tracked files.
$(DEMO_HOME)/notebooks/%.ipynb: notebooks/%.ipynb
	mkdir -p $(@D)
	cp $< $@

demo: install $(DEMO_NOTEBOOKS)
	$(PY) scripts/jupyter_app.py --frontend $(DEMO_FRONTEND) --home $(DEMO_HOME) $(DEMO_HOME)/notebooks/demo.ipynb $(DEMO_ARGS)

# marimo's app view of its demo (marimo run writes nothing back to the file).
demo-marimo: install
	$(VENV)/bin/marimo run notebooks/demo_marimo.py $(DEMO_ARGS)

clean:
	rm -rf $(VENV) js/node_modules tests/contract/node_modules twilio_widget/static dist $(DEMO_HOME)

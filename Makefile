# Every target is idempotent: a second run on a set-up machine only does what changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed
NPM_STAMP := js/node_modules/.installed
BUNDLE := twilio_widget/static/widget.js
JS_SOURCES := $(wildcard js/src/*.ts js/src/*.css) js/package.json js/scripts/copy-css.mjs
CHROMIUM ?= $(firstword $(wildcard /usr/lib/chromium/chromium /usr/bin/chromium /usr/bin/chromium-browser))
DEMO_ARGS ?=
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install js lint test test-py test-js test-e2e wheel demo chromium clean bench bench-contacts bench-history bench-routing

install: $(PIP_STAMP) $(NPM_STAMP) $(BUNDLE)

$(NPM_STAMP): js/package.json $(wildcard js/package-lock.json)
	cd js && npm ci --no-audit --no-fund
	touch $@

$(BUNDLE): $(NPM_STAMP) $(JS_SOURCES)
	cd js && npm run build

js: $(BUNDLE)

$(PIP_STAMP): pyproject.toml $(BUNDLE)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dev]"
	touch $@

lint: install
	$(VENV)/bin/ruff check twilio_widget tests benchmarks
	cd js && npm run typecheck

test-py: install
	$(PY) -m pytest -m "not e2e" -q

test-js: $(NPM_STAMP)
	cd js && npm test

# Debian's chromium when root and missing; otherwise whatever browser is there.
chromium:
	@if [ -z "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

test-e2e: install chromium
	$(PY) -m pytest -m e2e -q

wheel: install
	rm -rf dist
	$(PY) -m build --wheel --sdist --no-isolation --outdir dist . >/dev/null
	$(PY) tests/check_dist.py dist

test: lint test-py test-js test-e2e wheel

# Benchmarks print their figures and the ratio against a named baseline (benchmarks/README.md).
bench: bench-contacts bench-history bench-routing

bench-contacts: install
	$(PY) benchmarks/contacts_bench.py

bench-history: install
	$(PY) benchmarks/rest_history_bench.py

bench-routing: install
	$(PY) benchmarks/routing_load_bench.py --check

demo: install
	$(VENV)/bin/jupyter lab notebooks/demo.ipynb $(ROOT_ARGS) $(DEMO_ARGS)

clean:
	rm -rf $(VENV) js/node_modules twilio_widget/static dist

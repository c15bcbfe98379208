# claimrisk: `make demo` runs the whole story locally; `make test` runs the tests.
SHELL := /bin/bash
GO ?= go
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_BENCH := .venv-bench
PY_BENCH := $(VENV_BENCH)/bin/python
# COMMIT from the environment wins: a copy without .git (the lab tests'
# workspace) builds the very images of the commit it was copied from.
ifndef COMMIT
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
endif
LDFLAGS := -s -w -X github.com/claimrisk/claimrisk/shared/version.Commit=$(COMMIT)
BIN := bin
# Bucket drivers beyond file://, mem:// and s3://: TAGS=gcs, TAGS=azure or
# TAGS=gcs,azure for the functions (and images); the CLI has them all.
TAGS ?=
CLI_TAGS ?= gcs,azure
# The functions: every functions/NAME that has a cmd/main.go. Taken from the
# directory listing, since make build runs before there is a binary to ask;
# a test in shared/fnspec checks that the listing matches its table.
FUNCTIONS := $(sort $(patsubst functions/%/cmd/main.go,%,$(wildcard functions/*/cmd/main.go)))

.PHONY: all build venv venv-bench test test-race test-go test-python lint demo bench bench-smoke clean help fuzz soak audit

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

build: ## build the CLI and the function binaries into bin/
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -tags '$(CLI_TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/claimrisk ./cmd/claimrisk
	@for f in $(FUNCTIONS); do \
		CGO_ENABLED=0 $(GO) build -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/$$f ./functions/$$f/cmd || exit 1; \
	done

venv: $(VENV)/.done ## create the Python environment (MLflow, Evidently, scikit-learn, statsmodels, JupyterLab, pytest)
$(VENV)/.done: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed for MLflow and Evidently; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.txt
	$(PY) -m pip check
	@touch $@

venv-bench: $(VENV_BENCH)/.done ## create the benchmark's environment (MLServer, mlflow models serve)
$(VENV_BENCH)/.done: requirements-bench.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info < (3, 13) else "Python 3.11 or 3.12 is needed for MLServer 1.7.1; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV_BENCH)
	$(PY_BENCH) -m pip install --quiet --require-hashes --no-deps -r requirements-bench.txt
	$(PY_BENCH) -m pip check
	@touch $@

# The packages whose code runs concurrently (the event receiving layer, the
# local broker, the payload log, the registry, the prediction API) are tested
# with the race detector, and the function binaries their tests start are
# race-built too (shared/tooling/testenv); every other package runs without it.
RACE_PKGS := ./shared/parallel/ ./shared/dataset/ ./shared/flatparquet/ ./shared/features/ ./shared/model/ ./shared/training/ ./shared/funcmain/ ./shared/events/ ./shared/tooling/localrun/ ./shared/predlog/ ./shared/registry/ ./shared/driftcheck/ ./shared/cbpe/ ./functions/predict/

test: venv build ## run the Go and Python tests (with the labs' commands) and build the docs
	@$(MAKE) --no-print-directory docs-check
	CLAIMRISK_PYTHON=$(CURDIR)/$(PY) $(GO) test -timeout 30m $$($(GO) list ./... | grep -v -x -F $(patsubst ./%/,-e github.com/claimrisk/claimrisk/%,$(RACE_PKGS)))
	@$(MAKE) --no-print-directory test-race
	CLAIMRISK_BIN=$(CURDIR)/$(BIN) $(PY) -m pytest -q tests
	$(MAKE) --no-print-directory bench-smoke
	FUZZTIME=$(FUZZTIME_TEST) scripts/fuzz.sh
	@$(MAKE) --no-print-directory audit

test-race: ## the concurrent packages under the race detector (part of make test)
	CLAIMRISK_PYTHON=$(CURDIR)/$(PY) $(GO) test -race -timeout 30m $(RACE_PKGS)

# Reliability (issue 9): the fuzzers, the load and soak test, and the audit.
# `make test` runs the fuzzers for FUZZTIME_TEST per target and the short load
# test (tests/reliability); these targets run them longer.
FUZZTIME_TEST ?= 5s
FUZZTIME ?= 2m
SCHEMATHESIS_EXAMPLES ?= 500
SOAK ?= 10m

fuzz: build venv ## run every Go fuzz target for FUZZTIME (2m) each, then schemathesis against the predict binary
	FUZZTIME=$(FUZZTIME) SCHEMATHESIS=1 SCHEMATHESIS_EXAMPLES=$(SCHEMATHESIS_EXAMPLES) CLAIMRISK_PYTHON=$(CURDIR)/$(PY) scripts/fuzz.sh

soak: build venv ## the load test for SOAK (10m): 64 clients, a promotion and a SIGTERM, p99 and RSS
	CLAIMRISK_SOAK=$(SOAK) CLAIMRISK_PYTHON=$(CURDIR)/$(PY) $(GO) test -count=1 -timeout 0 -run '^TestLoad' -v ./tests/reliability/

audit: venv ## govulncheck and pip-audit; findings fail unless audit/exceptions.txt explains them
	PY=$(PY) scripts/audit.sh

lint: ## go vet, staticcheck and gofmt
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

bench: build venv venv-bench ## run the benchmarks (about half an hour) into benchmarks/results
	$(GO) run ./benchmarks/cmd/bench -out benchmarks/results $(BENCH_FLAGS)

bench-smoke: build venv venv-bench ## run every benchmark once at tiny sizes (peers included), to show they still work
	$(GO) run ./benchmarks/cmd/bench -smoke -out benchmarks/results/tmp/smoke

demo: build venv ## run the whole story locally on the embedded defaults
	$(BIN)/claimrisk demo --fresh $(DEMO_FLAGS)

clean: ## remove build outputs and the Python environment
	rm -rf $(BIN) $(VENV)

# Containers and the Knative cluster (docs/deploy.md). The images are built
# by containers/images.sh with podman, else docker. The cluster is kind when
# docker answers, else (Linux, root) a single node built from source
# (config/knative/cluster/source); config/knative/cluster/cluster.sh runs both.
.PHONY: images images-python cluster-up deploy smoke cluster-down

images: ## build the function images (FROM scratch; podman, else docker)
	@containers/images.sh $(FUNCTIONS)

images-python: ## build the MLflow and Evidently images (BASE_IMAGE=python:3.11-slim)
	@containers/images.sh mlflow evidently

cluster-up: ## a cluster with Knative 1.20 and Traefik: kind with docker, else built from source (root; 30-45 min the first time)
	@config/knative/cluster/cluster.sh up

deploy: ## build the images, load them into the cluster, apply config/knative/overlays/local
	@config/knative/cluster/cluster.sh deploy

smoke: build ## the end-to-end test on the cluster, through Knative only (tests/cluster)
	@config/knative/cluster/cluster.sh smoke

cluster-down: ## remove the cluster and what it added to this machine
	@config/knative/cluster/cluster.sh down

# The workshop site (docs/, mkdocs.yml; its Python is .venv). The reference
# pages in docs/reference are generated from the code; a Go test fails when
# they are out of date.
.PHONY: docs docs-check docs-reference screenshots notebooks
DOCS_ADDR ?= 127.0.0.1:8000
NOTEBOOKS_PORT ?= 8888

docs: venv ## serve the workshop site on http://127.0.0.1:8000 (DOCS_ADDR=host:port moves it)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr $(DOCS_ADDR)

docs-check: venv ## build the workshop site with mkdocs build --strict
	@echo "== docs: mkdocs build --strict"
	@if NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir site; then \
		echo "docs: mkdocs build --strict passed (site/)"; \
	else \
		echo "docs: mkdocs build --strict FAILED: the warnings above name the page and the link"; exit 1; \
	fi

docs-reference: ## regenerate docs/reference (CLI, events, API, configuration) from the code
	$(GO) run ./cmd/claimrisk docs generate --out docs/reference

notebooks: venv ## open the lab notebooks in JupyterLab on http://127.0.0.1:8888 (NOTEBOOKS_PORT moves it)
	$(VENV)/bin/jupyter lab --notebook-dir notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(NOTEBOOKS_PORT) \
		--ServerApp.port_retries=0 --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

screenshots: build venv ## retake the screenshots in docs/images from a fresh system in headless Chromium
	$(PY) tests/screenshots.py

# claimrisk: `make demo` runs the whole story locally; `make test` runs the tests.
SHELL := /bin/bash
GO ?= go
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_BENCH := .venv-bench
PY_BENCH := $(VENV_BENCH)/bin/python
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/claimrisk/claimrisk/shared/version.Commit=$(COMMIT)
BIN := bin
FUNCTIONS := train register predict drift

.PHONY: all build venv venv-bench test test-go test-python lint demo clean help

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

build: ## build the CLI and the function binaries into bin/
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/claimrisk ./cmd/claimrisk
	@for f in $(FUNCTIONS); do \
		CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/$$f ./functions/$$f/cmd || exit 1; \
	done

venv: $(VENV)/.done ## create the Python environment (MLflow, Evidently, scikit-learn, pytest)
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

test: venv build ## run the Go and Python tests
	CLAIMRISK_PYTHON=$(CURDIR)/$(PY) $(GO) test -timeout 30m ./...
	CLAIMRISK_BIN=$(CURDIR)/$(BIN) $(PY) -m pytest -q tests

lint: ## go vet, staticcheck and gofmt
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

demo: build venv ## run the whole story locally on the embedded defaults
	$(BIN)/claimrisk demo --fresh $(DEMO_FLAGS)

clean: ## remove build outputs and the Python environment
	rm -rf $(BIN) $(VENV)

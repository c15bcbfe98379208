# claimrisk: `make demo` runs the whole story locally; `make test` runs the tests.
SHELL := /bin/bash
GO ?= go
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/claimrisk/claimrisk/shared/version.Commit=$(COMMIT)
BIN := bin
FUNCTIONS := train

.PHONY: all build venv test test-go test-python lint demo clean help

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
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

test: venv build ## run the Go and Python tests
	CLAIMRISK_PYTHON=$(CURDIR)/$(PY) $(GO) test -timeout 30m ./...
	CLAIMRISK_BIN=$(CURDIR)/$(BIN) $(PY) -m pytest -q tests

lint: ## go vet, staticcheck and gofmt
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

demo: build ## run the whole story locally on the embedded defaults
	./scripts/demo.sh

clean: ## remove build outputs and the Python environment
	rm -rf $(BIN) $(VENV)

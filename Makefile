# sluice — build, test and run helpers. `make test` is the one command CI runs.
SHELL := /bin/bash
GO ?= go
# The Go release every build and test uses (go.mod's toolchain line): it has the standard
# library's security fixes that Go 1.26.8 lacks. The go command fetches it from the module proxy.
export GOTOOLCHAIN := go1.27.3
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The release binary: static, stripped, reproducible; the Dockerfile builds it the same way.
BUILD_FLAGS := -trimpath -ldflags "-s -w -X main.version=$(VERSION)"
export CGO_ENABLED ?= 0

# Runs a phase and prints how long it took: $(call phase,NAME,COMMAND).
phase = @start=$$(date +%s); echo "==> $(1)" >&2; $(2); rc=$$?; \
	echo "==> $(1): $$(( $$(date +%s) - start ))s (exit $$rc)" >&2; exit $$rc

.PHONY: all build test faults compat bench unit lint vulncheck deps pydeps deps-check demo testenv-up testenv-down clean

all: build

build:
	$(GO) build $(BUILD_FLAGS) -o bin/sluice ./cmd/sluice

# Everything CI proves: install what is missing, start the real services,
# vet, then every test with the race detector and the services' addresses set.
# The services stay up afterwards for quick re-runs; `make testenv-down` stops them.
test: deps
	$(call phase,testenv-up,bash testenv/up.sh > .testenv.env)
	$(call phase,lint,$(MAKE) -s lint)
	$(call phase,go test,source .testenv.env && SLUICE_TESTENV_REQUIRED=1 CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m ./...)

# The fault suite's long form (README, "Delivery"): the checker's
# own tests, then every TestFault scenario of cmd/sluice with
# SLUICE_FAULTS=long — kill -9 fifty times per database, SIGTERM twenty,
# more lifecycle rounds, longer outages, and the scenarios that start private
# services. make test runs the short forms of the others; SLUICE_FAULTS=short
# runs every short form.
faults: deps
	$(call phase,testenv-up,bash testenv/up.sh > .testenv.env)
	$(call phase,faults,source .testenv.env && SLUICE_TESTENV_REQUIRED=1 SLUICE_FAULTS=long CGO_ENABLED=1 $(GO) test -race -count=1 ./testenv/faults/ && \
		source .testenv.env && SLUICE_TESTENV_REQUIRED=1 SLUICE_FAULTS=long CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 90m -v -run '^TestFault' ./cmd/sluice/)

# sluice side by side with Debezium on the same tables and changes
# (testenv/compat; make test runs it too), verbosely.
compat: deps
	$(call phase,testenv-up,bash testenv/up.sh > .testenv.env)
	$(call phase,compat,source .testenv.env && SLUICE_TESTENV_REQUIRED=1 $(GO) test -count=1 -timeout 15m -v ./testenv/compat/)

# Every benchmark workload through sluice, Debezium (drains) and the ceilings,
# in the same runs, medians of 3 (hours; bench/README.md): writes
# bench/results/<date>-<commit>.json and generates bench/REPORT.md from it.
# BENCH_QUICK=1 runs small sizes, to check the harness.
bench: deps
	$(call phase,testenv-up,bash testenv/up.sh > .testenv.env)
	$(call phase,bench,source .testenv.env && $(GO) run ./bench/suite -command "$(if $(BENCH_QUICK),BENCH_QUICK=$(BENCH_QUICK) )make bench")

# Postgres → sluice (embedded Kafka and registry) → a live SSE stream.
demo:
	@bash examples/demo/demo.sh

# Unit tests only: no services; integration tests skip with a message.
unit:
	$(GO) test -count=1 ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# govulncheck over every package, against the Go vulnerability database as published in the
# golang.org/x/vulndb module at VULNDB (testenv/vulncheck.sh); fails when code reaches a
# vulnerable function.
VULNDB ?= v0.0.0-20261105234957-e22db6528018
vulncheck:
	$(call phase,vulncheck,bash testenv/vulncheck.sh $(VULNDB))

# Services and their jars, Go modules, and the Python test tools.
deps:
	$(call phase,deps,bash testenv/install.sh && $(GO) mod download && $(MAKE) -s pydeps)

# fastavro for the cross-language Avro checks and schemathesis for the REST API
# fuzz test, in the project's own virtual environment (testenv/pyvenv.sh:
# ~/.cache/sluice-testenv/pyvenv, or $$SLUICE_TESTENV_PYVENV); never pip --user.
pydeps:
	@sh schema/testdata/install_python_deps.sh && sh daemon/api/testdata/install_schemathesis.sh

# The Python part of deps as on a fresh Debian 12 machine: Debian's
# /usr/bin/python3 and an empty HOME in a scratch directory (.ci/run runs it).
deps-check:
	$(call phase,deps-check,bash testenv/deps_check.sh)

# Prints `export NAME=value` lines: eval "$$(make -s testenv-up)".
testenv-up:
	@bash testenv/up.sh

testenv-down:
	@bash testenv/down.sh

clean:
	rm -rf bin .testenv.env

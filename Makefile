# wsrpc — see README.md. Build outputs go to build/ (git-ignored).
#
# Each skin adds its own targets in mk/*.mk and appends them to BUILD_TARGETS,
# TEST_TARGETS, BENCH_TARGETS and INSTALL_TARGETS; demo steps live in examples/demo.d/*.sh.
#
# The project's version is written in one place, pkg/wsrpc/VERSION (the Go package embeds
# it); check-version fails when any other place that must repeat it differs.
SHELL := /bin/bash
GO ?= go
BUILD := $(CURDIR)/build
VENV := $(BUILD)/venv
PY := $(VENV)/bin/python
export GOFLAGS := -buildvcs=false
VERSION_FILE := pkg/wsrpc/VERSION
VERSION := $(shell cat $(VERSION_FILE))

BUILD_TARGETS := build-go
TEST_TARGETS := vet check-generate check-version test-go test-go-module test-faults test-fuzz-smoke
BENCH_TARGETS := bench-go
INSTALL_TARGETS :=
UNINSTALL_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: all build build-go demo test test-go test-go-module test-faults test-fuzz-smoke check-generate check-version vet bench bench-go fuzz clean generate venv install uninstall

all: build

build: $(BUILD_TARGETS)

build-go:
	@mkdir -p $(BUILD)/bin
	$(GO) build -o $(BUILD)/bin/ ./examples/go/...

generate:
	$(GO) generate ./...

# The committed easyjson codecs are exactly what `go generate` makes.
check-generate:
	$(GO) generate ./pkg/...
	git diff --exit-code -- pkg/wsrpc/internal/wire

# Every place that repeats the version (C header, npm package) says what VERSION says.
check-version:
	bash tests/install/check-version.sh

vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./pkg/wsrpc ./wasm
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# Python venv shared by the interop suites and the Python binding's tests.
venv: $(VENV)/.stamp
$(VENV)/.stamp: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r tests/requirements.txt
	touch $@

demo: build
	@bash examples/demo.sh

test: $(TEST_TARGETS)

install: $(INSTALL_TARGETS)

uninstall: $(UNINSTALL_TARGETS)

test-go:
	$(GO) test -race -count=1 ./pkg/... ./examples/... ./capi/

# README's "Install / Go" steps, verbatim, in a new module in a temporary directory.
test-go-module:
	bash tests/install/go-module.sh

# Fault injection: killed server, half-open link, random cuts, silent server, slowloris,
# notification flood, size limits. Each test logs a FAULT line with its counts.
test-faults:
	$(GO) test -race -count=1 -v ./tests/faults/

# 200,000 inputs of each fuzz target (make fuzz runs them longer). A count, not a duration:
# a duration races Go's fuzzing coordinator on a loaded machine ("context deadline
# exceeded" with no failing input, golang/go#75804); a count only runs slower there.
FUZZTIME ?= 200000x
test-fuzz-smoke:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./pkg/wsrpc/internal/wire
	$(GO) test -run '^$$' -fuzz '^FuzzValid$$' -fuzztime $(FUZZTIME) ./pkg/wsrpc/internal/wire
	$(GO) test -run '^$$' -fuzz '^FuzzSplit$$' -fuzztime $(FUZZTIME) ./pkg/wsrpc/internal/wire
	$(GO) test -run '^$$' -fuzz '^FuzzBindParams$$' -fuzztime $(FUZZTIME) ./pkg/wsrpc

bench: $(BENCH_TARGETS)

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...

fuzz: soak
	$(MAKE) test-fuzz-smoke FUZZTIME=120s

# The stress test of pkg/wsrpc (calls of every kind, callbacks, pings from both sides,
# closes) for minutes instead of seconds, race detector on. SOAK_ROUNDS x 8 workers x
# SOAK_ITERS calls.
SOAK_ROUNDS ?= 200
SOAK_ITERS ?= 1000
soak:
	WSRPC_STRESS_ROUNDS=$(SOAK_ROUNDS) WSRPC_STRESS_ITERS=$(SOAK_ITERS) $(GO) test -race -count=1 -run '^TestStress$$' -timeout 60m -v ./pkg/wsrpc/

clean:
	rm -rf $(BUILD)

# wsrpc — see README.md. Build outputs go to build/.
SHELL := /bin/bash
GO ?= go
BUILD := $(CURDIR)/build
export GOFLAGS := -buildvcs=false

.PHONY: all build demo test test-go bench fuzz clean generate vet

all: build

build:
	@mkdir -p $(BUILD)/bin
	$(GO) build -o $(BUILD)/bin/ ./examples/go/...

generate:
	$(GO) generate ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

demo: build
	@bash examples/demo.sh

test: vet test-go

test-go:
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./pkg/wsrpc/internal/wire

clean:
	rm -rf $(BUILD)

# Loopback benchmark program (tests/bench): wsrpc vs a raw coder/websocket echo, the C and
# Python bindings vs the Go client, fastapi-ws-rpc, sourcegraph/jsonrpc2, idle-connection
# memory, notifications, allocations, the wasm size, handlers that wait, 1,000 connections,
# wss:// and large messages, each as a ratio to a baseline measured in the same run.
#
#   bench-report      table on stdout; build/bench/results.json; build/bench/go.txt (benchstat)
#   bench-profile     CPU profiles of the wsrpc client and server at 256 in flight and with
#                     1 MiB messages (echo, 4 in flight), top lists
#   test-bench-smoke  the same program with tiny durations (make test; asserts no numbers)
BENCH_OUT := $(BUILD)/bench
BENCH_BIN := $(BUILD)/bin/wsrpc-bench
BENCH_CLOAD := $(BUILD)/bin/wsrpc-bench-cload
BENCH_TIME ?= 2s
BENCH_FLAGS = -python $(PY) -pydir tests/bench/py -cload $(BENCH_CLOAD) -wasm $(BUILD)/js/wsrpc.wasm

BENCH_TARGETS += bench-report
TEST_TARGETS += test-bench-smoke

.PHONY: bench-report bench-profile test-bench-smoke bench-bin

bench-bin:
	@mkdir -p $(dir $(BENCH_BIN))
	$(GO) build -o $(BENCH_BIN) ./tests/bench

$(BENCH_CLOAD): tests/bench/c/load.c $(BUILD)/libwsrpc.so $(BUILD)/include/wsrpc.h $(BUILD)/wsrpc.pc
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -O2 -o $@ $< $$(PKG_CONFIG_PATH=$(BUILD) pkg-config --cflags --libs wsrpc) -pthread

bench-report: bench-bin $(BENCH_CLOAD) python-install build-wasm
	@mkdir -p $(BENCH_OUT)
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -benchtime 1s -count 3 ./tests/bench/ | tee $(BENCH_OUT)/go.txt
	$(BENCH_BIN) -out $(BENCH_OUT) -gobench $(BENCH_OUT)/go.txt -dur $(BENCH_TIME) $(BENCH_FLAGS)

bench-profile: bench-bin
	@mkdir -p $(BENCH_OUT)
	$(BENCH_BIN) -profile $(BENCH_OUT)
	$(GO) tool pprof -top -nodecount=30 $(BENCH_OUT)/server.pprof 2>/dev/null | tee $(BENCH_OUT)/server-top.txt
	$(GO) tool pprof -top -cum -nodecount=30 $(BENCH_OUT)/server.pprof 2>/dev/null | tee $(BENCH_OUT)/server-topcum.txt
	$(GO) tool pprof -top -nodecount=30 $(BENCH_OUT)/client.pprof 2>/dev/null | tee $(BENCH_OUT)/client-top.txt
	$(GO) tool pprof -top -cum -nodecount=30 $(BENCH_OUT)/client.pprof 2>/dev/null | tee $(BENCH_OUT)/client-topcum.txt
	for p in server-large client-large; do \
		$(GO) tool pprof -top -nodecount=30 $(BENCH_OUT)/$$p.pprof 2>/dev/null | tee $(BENCH_OUT)/$$p-top.txt; \
		$(GO) tool pprof -top -cum -nodecount=30 $(BENCH_OUT)/$$p.pprof 2>/dev/null | tee $(BENCH_OUT)/$$p-topcum.txt; \
	done

test-bench-smoke: bench-bin $(BENCH_CLOAD) python-install build-wasm
	@mkdir -p $(BUILD)/bench-smoke
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -benchtime 20x ./tests/bench/ | tee $(BUILD)/bench-smoke/go.txt
	$(BENCH_BIN) -smoke -out $(BUILD)/bench-smoke -gobench $(BUILD)/bench-smoke/go.txt $(BENCH_FLAGS)

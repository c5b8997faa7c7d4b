# Browser / JavaScript skin: wasm/ (Go core for GOOS=js), bindings/js/ (ES module + types),
# examples/browser/, tests/js/ (Node + headless Chromium).
WASM_OUT := $(BUILD)/js
WASM_DIST := bindings/js/dist
WASM_EXEC := $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js
JS_TESTS := tests/js

BUILD_TARGETS += build-wasm
TEST_TARGETS += test-js
BENCH_TARGETS += bench-wasm

.PHONY: build-wasm test-js test-js-node test-js-browser bench-wasm js-deps chromium

# The .wasm, the loader, its types and wasm_exec.js from the same Go toolchain, in build/js/
# (served by examples/go/static-server) and bindings/js/dist/ (what `npm install bindings/js` uses).
build-wasm:
	@mkdir -p $(WASM_OUT) $(WASM_DIST)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(WASM_OUT)/wsrpc.wasm ./wasm
	cp $(WASM_EXEC) $(WASM_OUT)/wasm_exec.js
	cp bindings/js/wsrpc.mjs bindings/js/index.d.ts $(WASM_OUT)/
	cp $(WASM_OUT)/wsrpc.wasm $(WASM_OUT)/wasm_exec.js $(WASM_OUT)/wsrpc.mjs $(WASM_OUT)/index.d.ts $(WASM_DIST)/

$(BUILD)/bin/wsrpc-js-testserver: $(wildcard tests/js/server/*.go pkg/wsrpc/*.go)
	@mkdir -p $(BUILD)/bin
	$(GO) build -o $@ ./tests/js/server

# npm packages for the tests (ws, playwright-core, typescript), from package-lock.json.
js-deps: $(JS_TESTS)/node_modules/.stamp
$(JS_TESTS)/node_modules/.stamp: $(JS_TESTS)/package.json $(JS_TESTS)/package-lock.json
	cd $(JS_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser test (installed only when missing).
chromium:
	@bash $(JS_TESTS)/ensure-chromium.sh

test-js: test-js-node test-js-browser

test-js-node: build-wasm js-deps $(BUILD)/bin/wsrpc-js-testserver
	cd $(JS_TESTS) && npx --no-install tsc -p tsconfig.json
	cd $(JS_TESTS) && node --test --test-reporter=spec node.test.mjs

test-js-browser: build-wasm build-go js-deps chromium
	cd $(JS_TESTS) && node --test --test-reporter=spec browser.test.mjs

bench-wasm: build-wasm
	@raw=$$(stat -c %s $(WASM_OUT)/wsrpc.wasm); gz=$$(gzip -9c $(WASM_OUT)/wsrpc.wasm | wc -c); \
	echo "wsrpc.wasm: $$raw bytes raw, $$gz bytes gzip -9"

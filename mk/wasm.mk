# Browser / JavaScript skin: wasm/ (Go core for GOOS=js), bindings/js/ (ES module + types),
# examples/browser/, tests/js/ (Node + headless Chromium).
WASM_OUT := $(BUILD)/js
WASM_DIST := bindings/js/dist
WASM_EXEC := $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js
JS_TESTS := tests/js

BUILD_TARGETS += build-wasm
TEST_TARGETS += test-js
BENCH_TARGETS += bench-wasm

.PHONY: build-wasm test-js test-js-node test-js-node20 test-js-node22 test-js-browser bench-wasm js-deps node22 chromium

# The .wasm, the loader, its types and wasm_exec.js from the same Go toolchain, in build/js/
# (served by examples/go/static-server) and bindings/js/dist/ (what `npm install bindings/js` uses).
build-wasm:
	@mkdir -p $(WASM_OUT) $(WASM_DIST)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(WASM_OUT)/wsrpc.wasm ./wasm
	cp $(WASM_EXEC) $(WASM_OUT)/wasm_exec.js
	cp bindings/js/wsrpc.mjs bindings/js/websocket.mjs bindings/js/index.d.ts $(WASM_OUT)/
	cp $(addprefix $(WASM_OUT)/,wsrpc.wasm wasm_exec.js wsrpc.mjs websocket.mjs index.d.ts) $(WASM_DIST)/

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

# The Node tests run under the machine's node (>= 20) and under Node 22 from the npm
# registry's "node" package (build/node22). --preserve-symlinks: tests/js/node_modules/wsrpc
# is a link to bindings/js, and the binding must find the optional "ws" package next to it,
# as it does once installed from the registry.
NODE22 := $(BUILD)/node22/node_modules/.bin/node
JS_NODE_TESTS = cd $(JS_TESTS) && \
	NODE_OPTIONS=--preserve-symlinks $(1) --test --test-reporter=spec node.test.mjs failures.test.mjs && \
	WSRPC_TEST_WEBSOCKET=ws NODE_OPTIONS=--preserve-symlinks $(1) --test --test-reporter=spec failures.test.mjs

node22: $(NODE22)
$(NODE22):
	npm install --prefix $(BUILD)/node22 --no-audit --no-fund --loglevel=error node@22
	$(NODE22) --version

test-js-node: test-js-node20 test-js-node22

test-js-node20: build-wasm js-deps $(BUILD)/bin/wsrpc-js-testserver
	cd $(JS_TESTS) && npx --no-install tsc -p tsconfig.json
	$(call JS_NODE_TESTS,node)

test-js-node22: build-wasm js-deps $(BUILD)/bin/wsrpc-js-testserver $(NODE22)
	$(call JS_NODE_TESTS,$(NODE22))

test-js-browser: build-wasm build-go js-deps chromium
	cd $(JS_TESTS) && node --test --test-reporter=spec browser.test.mjs

bench-wasm: build-wasm
	@raw=$$(stat -c %s $(WASM_OUT)/wsrpc.wasm); gz=$$(gzip -9c $(WASM_OUT)/wsrpc.wasm | wc -c); \
	echo "wsrpc.wasm: $$raw bytes raw, $$gz bytes gzip -9"

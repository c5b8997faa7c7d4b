# Interop suites against the real Python libraries (tests/interop; see FINDINGS.md there):
# fastapi-ws-rpc 1.2.0 in both directions, golden frames, the examples, the legacy
# fastapi-websocket-rpc dialect and fastapi-websocket-pubsub.
#
#   test-interop   run them (writes build/interop/compat.md and compat.json)
#   compat-table   copy build/interop/compat.md into README.md's "Compatibility" table
TEST_TARGETS += test-interop

.PHONY: test-interop compat-table

test-interop: venv build-go
	WSRPC_PYTHON=$(PY) $(GO) test -race -count=1 ./tests/interop/...

compat-table:
	@test -s $(BUILD)/interop/compat.md || { echo "no $(BUILD)/interop/compat.md: run make test-interop first"; exit 1; }
	@awk -v table="$(BUILD)/interop/compat.md" ' \
		index($$0, "<!-- compat-table:begin") == 1 { print; while ((getline line < table) > 0) print line; skip = 1; found = 1; next } \
		index($$0, "<!-- compat-table:end") == 1 { skip = 0 } \
		!skip { print } \
		END { if (!found) { print "README.md has no compat-table markers" > "/dev/stderr"; exit 1 } }' README.md > README.md.tmp
	@mv README.md.tmp README.md
	@echo "README.md compatibility table updated from $(BUILD)/interop/compat.md"

#!/usr/bin/env bash
# Live demo: starts the Go example server (bidirectional: it calls each client back), runs
# every client in examples/demo.d/ against it in order, and prints what they exchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
export BIN=build/bin ADDR=127.0.0.1:9000
export URL="ws://$ADDR/ws"
"$BIN/bidi-server" -addr "$ADDR" >build/demo-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null && break; sleep 0.1; done
for step in examples/demo.d/*.sh; do
	bash "$step"
done
echo "== demo done"

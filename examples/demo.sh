#!/usr/bin/env bash
# Live demo: starts the Go example server, runs the clients against it, prints the exchange.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin
ADDR=127.0.0.1:9000
"$BIN/bidi-server" -addr "$ADDR" >build/demo-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null && break; sleep 0.1; done
echo "== Go client (simple): concat(\"hello\", \" world\")"
"$BIN/simple-client" -url "ws://$ADDR/ws"
echo "== Go client (bidirectional): waits for the server's allow_queries(), calls concat, waits for allow_exit(delay)"
"$BIN/bidi-client" -url "ws://$ADDR/ws"
echo "== done"

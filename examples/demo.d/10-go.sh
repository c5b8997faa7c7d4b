#!/usr/bin/env bash
set -euo pipefail
echo "== Go client (simple): concat(\"hello\", \" world\")"
"$BIN/simple-client" -url "$URL"
echo "== Go client (bidirectional): waits for the server's allow_queries(), calls concat, waits for allow_exit(delay)"
"$BIN/bidi-client" -url "$URL"

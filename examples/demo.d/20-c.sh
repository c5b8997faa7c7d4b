#!/usr/bin/env bash
set -euo pipefail
echo "== C client (libwsrpc): waits for the server's allow_queries(), calls concat, waits for allow_exit(delay)"
"$BIN/c-client" "$URL"

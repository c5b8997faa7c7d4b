#!/usr/bin/env bash
# with-python-peer.sh PYTHON COMMAND...: runs COMMAND with WSRPC_TEST_PY_SERVER set to the
# URL of a server on the real fastapi-ws-rpc library (bindings/python/tests/fastapi_server.py
# run by PYTHON), which the C tests use as a peer without batches.
set -euo pipefail
py=$1
shift
dir=$(mktemp -d)
"$py" "$(dirname "$0")/../../bindings/python/tests/fastapi_server.py" --lifetime 900 >"$dir/out" 2>"$dir/err" &
pid=$!
cleanup() {
	kill $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 300); do
	grep -q '^LISTENING ' "$dir/out" && break
	kill -0 $pid 2>/dev/null || { echo "fastapi server exited:" >&2; cat "$dir/err" >&2; exit 1; }
	sleep 0.1
done
port=$(awk '/^LISTENING /{print $2; exit}' "$dir/out")
[ -n "$port" ] || { echo "fastapi server did not start" >&2; exit 1; }
rc=0
WSRPC_TEST_PY_SERVER="ws://127.0.0.1:$port/ws" "$@" || rc=$?
exit $rc

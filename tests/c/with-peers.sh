#!/usr/bin/env bash
# with-peers.sh PYTHON CANCELSERVER COMMAND...: runs COMMAND with two peers for the C tests:
#   WSRPC_TEST_PY_SERVER  the URL of a server on the real fastapi-ws-rpc library
#                         (bindings/python/tests/fastapi_server.py run by PYTHON), a peer
#                         without batches;
#   WSRPC_TEST_GO_SERVER  the URL of CANCELSERVER (tests/cancelserver), whose Go handler
#                         records when its context ends.
set -euo pipefail
py=$1
goserver=$2
shift 2
suite=with-peers
# shellcheck source=../install/lib.sh
source "$(dirname "$0")/../install/lib.sh" # $tmp, and $pids stopped at exit

# start NAME COMMAND...: runs COMMAND in the background and sets port to the port of its
# "LISTENING <port>" line.
start() {
	local name=$1
	shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	local pid=$!
	pids+=($pid)
	for _ in $(seq 300); do
		grep -q '^LISTENING ' "$tmp/$name.out" && break
		kill -0 $pid 2>/dev/null || { cp "$tmp/$name.err" "$tmp/detail"; fail "$name exited"; }
		sleep 0.1
	done
	port=$(awk '/^LISTENING /{print $2; exit}' "$tmp/$name.out")
	[ -n "$port" ] || { cp "$tmp/$name.err" "$tmp/detail"; fail "$name did not start"; }
}

start fastapi "$py" "$(dirname "$0")/../../bindings/python/tests/fastapi_server.py" --lifetime 900
pyport=$port
start cancelserver "$goserver"
goport=$port
rc=0
WSRPC_TEST_PY_SERVER="ws://127.0.0.1:$pyport/ws" WSRPC_TEST_GO_SERVER="ws://127.0.0.1:$goport/ws" "$@" || rc=$?
exit $rc

# shellcheck shell=bash disable=SC2154
# Shared by the install tests (sourced): a temporary directory, cleanup of the servers a
# test starts, and the ok/expect/fail reporting with a closing "N passed, N failed" line.
# The sourcing script sets suite (its name in that line) first.

tmp=$(mktemp -d)
pids=() # servers' pids, killed at exit
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
ok() {
	passed=$((passed + 1))
	echo "ok   $*"
}
fail() {
	echo "FAIL $*" >&2
	[[ -s $tmp/detail ]] && sed 's/^/     /' "$tmp/detail" >&2
	echo "$suite: $passed passed, 1 failed"
	exit 1
}
expect() { # expect DESCRIPTION WANT GOT
	if [[ "$2" == "$3" ]]; then
		ok "$1"
	else
		printf 'got:  %s\nwant: %s\n' "$3" "$2" >"$tmp/detail"
		fail "$1"
	fi
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # wait_port PORT PID LOG: until something listens on PORT (fails if PID exits)
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || { cp "$3" "$tmp/detail"; fail "server on port $1 exited"; }
		sleep 0.1
	done
	cp "$3" "$tmp/detail"
	fail "nothing listens on port $1"
}
# start_bidi_server [FLAGS...]: the Go example server on a free port ($port), its log in
# $tmp/server.log; it is stopped at exit.
start_bidi_server() {
	port=$(free_port)
	build/bin/bidi-server -addr "127.0.0.1:$port" -wait 200ms "$@" >"$tmp/server.log" 2>&1 &
	pids+=("$!")
	wait_port "$port" "${pids[-1]}" "$tmp/server.log"
}
finish() { echo "$suite: $passed passed, 0 failed"; }

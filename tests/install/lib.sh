# shellcheck shell=bash disable=SC2154
# Shared by the install tests (sourced): a temporary directory, cleanup of the servers a
# test starts, and the ok/expect/fail reporting with a closing "N passed, N failed" line.
# The sourcing script sets suite (its name in that line) first.

tmp=$(mktemp -d)
server= # a server's pid, killed at exit
pids=() # more of them
cleanup() {
	for p in $server "${pids[@]}"; do
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
finish() { echo "$suite: $passed passed, 0 failed"; }

#!/usr/bin/env bash
# README's "Install / Go: use it from your module", verbatim: the code blocks marked
# <!-- go-module:... --> are taken from README.md and run in a temporary directory that
# holds this checkout as wsrpc/, like a user's new module next to a clone. The program must
# start its server, call it and print "hello world (wsrpc VERSION)".
# Run by `make test-go-module`. Uses the Go module proxy (or the module cache) as a user would.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
version=$(<pkg/wsrpc/VERSION)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

block() { # block NAME: the fenced block after <!-- go-module:NAME ... --> in README.md
	awk -v name="go-module:$1" '
		index($0, "<!-- " name) == 1 { marked = 1; next }
		marked && !inside && /^```/ { inside = 1; next }
		inside && /^```/ { found = 1; exit }
		inside { print }
		END { if (!found) exit 1 }' README.md || { echo "FAIL README.md has no block go-module:$1" >&2; exit 1; }
}
block init >"$tmp/init.sh"
block main.go >"$tmp/main.go"
block run >"$tmp/run.sh"

ln -s "$repo" "$tmp/wsrpc"
export GOFLAGS=-mod=mod
(cd "$tmp" && bash -euxo pipefail init.sh)
cp "$tmp/main.go" "$tmp/hello/main.go"
(cd "$tmp/hello" && bash -euxo pipefail ../run.sh) >"$tmp/out"
cat "$tmp/out"

grep -qx 'replace github.com/wsrpc/wsrpc => ../wsrpc' "$tmp/hello/go.mod" || { echo "FAIL hello/go.mod has no replace" >&2; exit 1; }
want="hello world (wsrpc $version)"
if [[ $(<"$tmp/out") != "$want" ]]; then
	echo "FAIL the README's program printed the above, want: $want" >&2
	exit 1
fi
echo "ok   README's Go module steps: $want"

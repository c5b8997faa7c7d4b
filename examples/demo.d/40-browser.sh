#!/usr/bin/env bash
# Browser client: headless Chromium loads examples/browser (the Go core compiled to wasm),
# served by static-server, whose /ws is proxied to the demo server at $URL (so the page is
# same-origin); prints what the page exchanged.
set -euo pipefail
echo "== Browser client (wasm, headless Chromium): waits for allow_queries(), calls concat, waits for allow_exit(delay)"
if ! bash tests/js/ensure-chromium.sh >&2; then
	echo "   skipped: Chromium is not available"
	exit 0
fi
make -s js-deps >/dev/null
LOG=build/demo-static.log
"$BIN/static-server" -addr 127.0.0.1:0 -upstream "$URL" >"$LOG" 2>&1 &
STATIC=$!
trap 'kill $STATIC 2>/dev/null; wait $STATIC 2>/dev/null || true' EXIT
PAGE_URL=
for _ in $(seq 100); do
	PAGE_URL=$(sed -n 's/^serving \(http:[^ ]*\)$/\1/p' "$LOG")
	[ -n "$PAGE_URL" ] && break
	sleep 0.1
done
[ -n "$PAGE_URL" ] || { cat "$LOG"; exit 1; }
echo "   page $PAGE_URL (its /ws -> $URL)"
PAGE_URL="$PAGE_URL" SCREENSHOT=build/demo-browser.png node tests/js/demo-browser.mjs

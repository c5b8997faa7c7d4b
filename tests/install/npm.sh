#!/usr/bin/env bash
# The npm tarball as a user would get it: installed with `npm install TARBALL` (plus esbuild,
# and ws for Node 20, from the registry) into a new project in a temporary directory, then
#   - a Node script imports the package and calls the Go example server (under the machine's
#     Node, and under Node 22 when $NODE22 is given);
#   - esbuild bundles a small page for the browser; headless Chromium loads it from
#     examples/go/static-server and calls the Go server; the wasm is sent precompressed.
# Run by `make test-npm`, which builds the tarball, the Go programs, tests/js's npm packages
# (playwright-core, found through $JS_TESTS) and Chromium first.
#
#   tests/install/npm.sh build/dist/wsrpc-VERSION.tgz
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
tgz=$(realpath "$1")
version=$(<pkg/wsrpc/VERSION)
JS_TESTS=${JS_TESTS:-$repo/tests/js}
ESBUILD_VERSION=0.28.2
WS_VERSION=8.18.3

suite=test-npm
# shellcheck source=tests/install/lib.sh
source tests/install/lib.sh # (the working directory is the repository)

# The project: the tarball, esbuild, ws (Node 20 has no global WebSocket).
app=$tmp/app
mkdir -p "$app/src"
cat >"$app/package.json" <<'EOF'
{ "name": "wsrpc-install-test", "private": true, "type": "module" }
EOF
if ! (cd "$app" && npm install --no-audit --no-fund --loglevel=error "$tgz" "esbuild@$ESBUILD_VERSION" "ws@$WS_VERSION") >"$tmp/detail" 2>&1; then
	fail "npm install $(basename "$tgz") esbuild ws"
fi
ok "npm install $(basename "$tgz") esbuild@$ESBUILD_VERSION ws@$WS_VERSION"
pkg=$app/node_modules/wsrpc
[[ -d $pkg && ! -L $pkg ]] || fail "node_modules/wsrpc is not a directory of its own (a link?)"
expect "installed version" "$version" "$(node -p 'require(process.argv[1]).version' "$pkg/package.json")"
expect "installed files" "LICENSE README.md dist/index.d.ts dist/node.mjs dist/wasm_exec.js dist/wasm_exec.mjs dist/websocket.mjs dist/wsrpc.mjs dist/wsrpc.wasm package.json" \
	"$(cd "$pkg" && find . -type f -printf '%P\n' | sort | xargs)"
cmp -s "$pkg/dist/wsrpc.wasm" build/js/wsrpc.wasm || fail "the installed wsrpc.wasm is not build/js/wsrpc.wasm"
ok "the installed wsrpc.wasm is build/js/wsrpc.wasm"

# The Go example server, on a free port; pages from another origin may connect.
start_bidi_server -origins '127.0.0.1:*'
url=ws://127.0.0.1:$port/ws

# Node: the package by its name, from the project's directory.
cat >"$app/node-client.mjs" <<'EOF'
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { connect, version } from "wsrpc";

const entry = realpathSync(fileURLToPath(import.meta.resolve("wsrpc")));
console.log(`entry ${entry}`);
console.log(`version ${await version()}`);
let allowQueries, allowExit;
const queries = new Promise((r) => { allowQueries = r; });
const exit = new Promise((r) => { allowExit = r; });
const c = await connect(process.argv[2], {
  methods: {
    allow_queries: () => { console.log("server called allow_queries()"); allowQueries(); },
    allow_exit: ({ delay }) => { console.log(`server called allow_exit(delay=${delay})`); setTimeout(allowExit, delay * 1000); },
  },
});
await queries;
console.log(`concat = ${JSON.stringify(await c.call("concat", { a: "hello", b: " world" }))}`);
await exit;
await c.close();
console.log("done");
EOF
node_client() { # node_client NODE LABEL
	if ! (cd "$app" && timeout 60 "$1" node-client.mjs "$url") >"$tmp/node.out" 2>&1 </dev/null; then
		cat "$tmp/node.out" "$tmp/server.log" >"$tmp/detail"
		fail "Node $2: node-client.mjs against bidi-server"
	fi
	cp "$tmp/node.out" "$tmp/detail"
	expect "Node $2: \"wsrpc\" resolves to the installed dist/node.mjs" "entry $pkg/dist/node.mjs" "$(grep '^entry ' "$tmp/node.out")"
	expect "Node $2: version()" "version $version" "$(grep '^version ' "$tmp/node.out")"
	for line in "server called allow_queries()" 'concat = "hello world"' 'done'; do
		grep -qxF "$line" "$tmp/node.out" || fail "Node $2: output has no line '$line'"
	done
	ok "Node $2: node-client.mjs against bidi-server: $(grep '^concat' "$tmp/node.out")"
}
node_client node "$(node --version)"
if [[ -n ${NODE22:-} ]]; then
	node_client "$NODE22" "$("$NODE22" --version)"
fi

# The browser: a page bundled by esbuild, the wasm as a file it copies.
cat >"$app/src/main.js" <<'EOF'
import { connect, version } from "wsrpc";
import wasm from "wsrpc/wsrpc.wasm";

const out = (window.result = { lines: [], state: "running" });
const log = (s) => out.lines.push(s);
try {
  const url = new URLSearchParams(location.search).get("url");
  let allowQueries, allowExit;
  const queries = new Promise((r) => { allowQueries = r; });
  const exit = new Promise((r) => { allowExit = r; });
  const c = await connect(url, {
    wasm,
    methods: {
      allow_queries: () => { log("server called allow_queries()"); allowQueries(); },
      allow_exit: ({ delay }) => { log(`server called allow_exit(delay=${delay})`); setTimeout(allowExit, delay * 1000); },
    },
  });
  log(`version ${await version()}`);
  await queries;
  log(`concat = ${JSON.stringify(await c.call("concat", { a: "hello", b: " world" }))}`);
  await exit;
  await c.close();
  out.state = "done";
} catch (e) {
  log(`error: ${e && e.stack || e}`);
  out.state = "error";
}
EOF
cat >"$app/src/index.html" <<'EOF'
<!doctype html>
<meta charset="utf-8">
<title>wsrpc bundled</title>
<link rel="icon" href="data:,">
<script type="module" src="./main.js"></script>
EOF
if ! (cd "$app" && npx --no-install esbuild src/main.js --bundle --format=esm --platform=browser \
	--loader:.wasm=file --outdir=out --metafile=meta.json --log-level=warning) >"$tmp/detail" 2>&1; then
	fail "esbuild --bundle --platform=browser"
fi
cp "$app/src/index.html" "$app/out/"
inputs=$(node -e 'const m = require(process.argv[1]); console.log(Object.keys(m.inputs).filter((k) => k.includes("node_modules/wsrpc/")).sort().join(" "))' "$app/meta.json")
expect "esbuild bundled the browser entry, not node.mjs" \
	"node_modules/wsrpc/dist/wasm_exec.mjs node_modules/wsrpc/dist/websocket.mjs node_modules/wsrpc/dist/wsrpc.mjs node_modules/wsrpc/dist/wsrpc.wasm" "$inputs"
(grep -nE '(from|import)[ (]*"node:|require\(' "$app/out/main.js" || true) >"$tmp/detail"
expect "the bundle imports nothing from node:" "" "$(cat "$tmp/detail")"
grep -q "runtime.wasmExit" "$app/out/main.js" || fail "the bundle does not carry wasm_exec"
ok "the bundle carries wasm_exec"
mapfile -t wasms < <(cd "$app/out" && ls -- *.wasm)
expect "esbuild copied one .wasm" 1 "${#wasms[@]}"
hashed=${wasms[0]}
cmp -s "$app/out/$hashed" build/js/wsrpc.wasm || fail "out/$hashed is not wsrpc.wasm"
ok "esbuild copied wsrpc.wasm as out/$hashed"
# Deployed with the precompressed copies that make build-wasm made of the same file.
cp build/js/wsrpc.wasm.br "$app/out/$hashed.br"
cp build/js/wsrpc.wasm.gz "$app/out/$hashed.gz"

static_port=$(free_port)
build/bin/static-server -addr "127.0.0.1:$static_port" -root "$app/out" -js "$app/out" >"$tmp/static.log" 2>&1 &
pids+=("$!")
wait_port "$static_port" "${pids[-1]}" "$tmp/static.log"
page=http://127.0.0.1:$static_port

# static-server's answers for the wasm, by Accept-Encoding.
headers() { curl -sS -o "$tmp/body" -D - -H "Accept-Encoding: $1" "$page/$hashed" | tr -d '\r' | grep -iE '^(content-encoding|content-type|vary):' | tr 'A-Z' 'a-z' | sort | xargs; }
expect "wasm, Accept-Encoding: br, gzip" "content-encoding: br content-type: application/wasm vary: accept-encoding" "$(headers 'br, gzip')"
cmp -s "$tmp/body" build/js/wsrpc.wasm.br || fail "br body is not wsrpc.wasm.br"
expect "wasm, Accept-Encoding: gzip" "content-encoding: gzip content-type: application/wasm vary: accept-encoding" "$(headers gzip)"
gzip -dc "$tmp/body" | cmp -s - build/js/wsrpc.wasm || fail "gzip body does not decode to wsrpc.wasm"
ok "gzip body decodes to wsrpc.wasm"
expect "wasm, Accept-Encoding: identity" "content-type: application/wasm vary: accept-encoding" "$(headers identity)"
cmp -s "$tmp/body" build/js/wsrpc.wasm || fail "identity body is not wsrpc.wasm"

cat >"$tmp/browser.cjs" <<'EOF'
// Loads the bundled page in headless Chromium (Debian's, through tests/js's playwright-core).
const { createRequire } = require("node:module");
const { chromium } = createRequire(process.env.JS_TESTS + "/")("playwright-core");
(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    const wasm = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("response", async (r) => {
      if (r.url().endsWith(".wasm")) wasm.push(`${r.status()} ${(await r.allHeaders())["content-encoding"] || "identity"}`);
    });
    await page.goto(process.argv[2]);
    await page.waitForFunction(() => window.result && window.result.state !== "running", null, { timeout: 30000 });
    const result = await page.evaluate(() => window.result);
    for (const l of result.lines) console.log(l);
    console.log(`state ${result.state}`);
    console.log(`wasm ${wasm.join(", ")}`);
    for (const e of errors) console.log(`page error: ${e}`);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
EOF
if ! JS_TESTS=$JS_TESTS timeout 90 node "$tmp/browser.cjs" "$page/index.html?url=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$url")" \
	>"$tmp/browser.out" 2>&1 </dev/null; then
	cat "$tmp/browser.out" "$tmp/static.log" >"$tmp/detail"
	fail "Chromium on the bundled page"
fi
cp "$tmp/browser.out" "$tmp/detail"
expect "Chromium: page state" "state done" "$(grep '^state ' "$tmp/browser.out")"
expect "Chromium: no page errors" "" "$(grep '^page error' "$tmp/browser.out" || true)"
expect "Chromium: the wasm arrived Brotli-compressed" "wasm 200 br" "$(grep '^wasm ' "$tmp/browser.out")"
expect "Chromium: version()" "version $version" "$(grep '^version ' "$tmp/browser.out")"
for line in "server called allow_queries()" 'concat = "hello world"'; do
	grep -qxF "$line" "$tmp/browser.out" || fail "Chromium: page has no line '$line'"
done
ok "Chromium: the bundled page against bidi-server: $(grep '^concat' "$tmp/browser.out")"

finish

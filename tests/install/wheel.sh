#!/usr/bin/env bash
# The x86_64 wheel of the Python binding as a user would get it: installed with pip (from the
# file, no index) into a new venv in a temporary directory, used from that directory with
# nothing of this repository on sys.path: its metadata and files are checked, and
# examples/python/client.py (copied out) is run against the Go example server.
# Run by `make test-wheel`, which builds the wheel and build/bin/bidi-server first.
#
#   tests/install/wheel.sh build/dist/wsrpc_go-VERSION-py3-none-manylinux_2_17_x86_64....whl
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
whl=$(realpath "$1")
version=$(<pkg/wsrpc/VERSION)
major=${version%%.*}

suite=test-wheel
# shellcheck source=tests/install/lib.sh
source tests/install/lib.sh # (the working directory is the repository)

# The file name says what pip and the index go by.
expect "wheel file name" "wsrpc_go-$version-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" "$(basename "$whl")"

python3 -m venv "$tmp/venv"
py=$tmp/venv/bin/python
# -I: isolated (no PYTHONPATH, no user site-packages, not the script's directory first).
run() { (cd "$tmp/work" && env -u PYTHONPATH "$py" -I "$@"); }
mkdir "$tmp/work"
if ! "$py" -m pip install -q --disable-pip-version-check --no-index "$whl" >"$tmp/detail" 2>&1; then
	fail "pip install --no-index the wheel"
fi
ok "pip install --no-index $(basename "$whl")"

# Where it came from, what it says about itself.
cat >"$tmp/work/check.py" <<'EOF'
import importlib.metadata as md, pathlib, sys, sysconfig, wsrpc
site = pathlib.Path(sysconfig.get_paths()["purelib"]).resolve()
pkg = pathlib.Path(wsrpc.__file__).resolve().parent
dist = md.distribution("wsrpc-go")
meta = dist.metadata
print("package dir in site-packages:", pkg.parent == site)
print("no repository on sys.path:", not any(p and pathlib.Path(p).resolve() == pathlib.Path(sys.argv[1]).resolve() / "bindings/python/src" for p in sys.path))
print("version:", md.version("wsrpc-go"), wsrpc.__version__, wsrpc.library_version())
print("license:", meta["License-Expression"])
print("requires-python:", meta["Requires-Python"])
print("urls:", len(meta.get_all("Project-URL") or []) >= 2)
print("typed:", "Typing :: Typed" in (meta.get_all("Classifier") or []), (pkg / "py.typed").is_file())
print("files:", " ".join(sorted(str(f) for f in dist.files if f.parts[0] == "wsrpc" and f.suffix != ".pyc")))
print("lib:", pkg / "libwsrpc.so")
EOF
if ! run check.py "$repo" >"$tmp/check.out" 2>"$tmp/detail"; then
	fail "import wsrpc from the venv"
fi
cp "$tmp/check.out" "$tmp/detail"
field() { sed -n "s/^$1: //p" "$tmp/check.out"; }
expect "package imported from the venv's site-packages" True "$(field 'package dir in site-packages')"
expect "the repository's bindings/python/src is not on sys.path" True "$(field 'no repository on sys.path')"
expect "versions (distribution, __version__, libwsrpc)" "$version $version $version" "$(field version)"
expect "License-Expression" MIT "$(field license)"
expect "Requires-Python" ">=3.9" "$(field requires-python)"
expect "Project-URLs" True "$(field urls)"
expect "typed (classifier, py.typed)" "True True" "$(field typed)"
# The package's tracked files, plus the version module and the library the build adds.
want_files=$( { git -C "$repo" ls-files bindings/python/src/wsrpc | sed 's|^bindings/python/src/||'; echo wsrpc/_version.py; echo wsrpc/libwsrpc.so; } | LC_ALL=C sort | xargs)
expect "package files" "$want_files" "$(field files)"
lib=$(field lib)
readelf -d "$lib" >"$tmp/detail"
expect "bundled library's SONAME" "[libwsrpc.so.$major]" "$(sed -n 's/.*(SONAME) *Library soname: //p' "$tmp/detail")"
expect "bundled library has no RPATH/RUNPATH" "" "$(grep -E '\((RPATH|RUNPATH)\)' "$tmp/detail" || true)"
readelf -h "$lib" >"$tmp/detail"
expect "bundled library's machine" "Advanced Micro Devices X86-64" "$(sed -n 's/^ *Machine: *//p' "$tmp/detail")"
objdump -T "$lib" | grep -o 'GLIBC_[0-9.]*' | sort -uV >"$tmp/detail"
newest=$(tail -1 "$tmp/detail")
expect "bundled library needs glibc <= 2.17 (newest: $newest)" "$newest" "$(printf '%s\nGLIBC_2.17\n' "$newest" | sort -V | head -1)"
nm -D --defined-only "$lib" | awk '{print $NF}' | sort >"$tmp/exported"
grep -oE '\bwsrpc_[a-z_]+\(' capi/include/wsrpc.h | tr -d '(' | sort -u >"$tmp/declared"
expect "bundled library exports only the functions wsrpc.h declares" "$(cat "$tmp/declared")" "$(cat "$tmp/exported")"

# examples/python/client.py, copied out, against the Go example server on a free port.
cp examples/python/client.py "$tmp/work/client.py"
start_bidi_server
if ! run client.py --url "ws://127.0.0.1:$port/ws" >"$tmp/client.out" 2>&1 </dev/null; then
	cat "$tmp/client.out" "$tmp/server.log" >"$tmp/detail"
	fail "examples/python/client.py against bidi-server"
fi
cp "$tmp/client.out" "$tmp/detail"
for line in "server called allow_queries()" "concat('hello', ' world') = 'hello world'" "exiting, as the server allowed"; do
	grep -qxF "$line" "$tmp/client.out" || fail "client.py output has no line '$line'"
done
grep -qE '^server called allow_exit\(delay=[0-9.]+\)$' "$tmp/client.out" || fail "client.py was not called allow_exit"
ok "examples/python/client.py against bidi-server: $(grep -F concat "$tmp/client.out")"

finish

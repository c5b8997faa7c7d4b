#!/usr/bin/env bash
# `make install` into a temporary DESTDIR, then the installed copy used as a program outside
# this repository would use it: the installed files and their ELF metadata are checked,
# examples/c/client.c is compiled with pkg-config against them and run against the Go
# example server, and tests/c/test_capi.c is compiled and run against them too.
# Run by `make test-install-c`, which builds the library and build/bin/bidi-server first.
set -euo pipefail
cd "$(dirname "$0")/../.."
MAKE=${MAKE:-make}
CC=${CC:-cc}
version=$(<pkg/wsrpc/VERSION)
major=${version%%.*}
prefix=/opt/wsrpc

suite=test-install-c
# shellcheck source=tests/install/lib.sh
source tests/install/lib.sh # (the working directory is the repository)
root=$tmp/root
lib=$root$prefix/lib

"$MAKE" --no-print-directory install DESTDIR="$root" PREFIX="$prefix"

# The files, and nothing else.
expect "installed files" "$(printf '%s\n' \
	"include/wsrpc.h" \
	"lib/libwsrpc.so -> libwsrpc.so.$major" \
	"lib/libwsrpc.so.$major -> libwsrpc.so.$version" \
	"lib/libwsrpc.so.$version" \
	"lib/pkgconfig/wsrpc.pc")" \
	"$(cd "$root" && find . -type l -printf '%P -> %l\n' -o -type f -printf '%P\n' | sed "s|^${prefix#/}/||" | sort)"
[[ -f $lib/libwsrpc.so.$version && ! -L $lib/libwsrpc.so.$version ]] || fail "lib/libwsrpc.so.$version is not a regular file"
cmp -s capi/include/wsrpc.h "$root$prefix/include/wsrpc.h" || fail "include/wsrpc.h differs from capi/include/wsrpc.h"
ok "include/wsrpc.h is capi/include/wsrpc.h"

# The library: SONAME, no run-time search path, only the C API's symbols.
readelf -d "$lib/libwsrpc.so.$version" >"$tmp/detail"
expect "SONAME" "[libwsrpc.so.$major]" "$(sed -n 's/.*(SONAME) *Library soname: //p' "$tmp/detail")"
expect "library has no RPATH/RUNPATH" "" "$(grep -E '\((RPATH|RUNPATH)\)' "$tmp/detail" || true)"
nm -D --defined-only "$lib/libwsrpc.so.$version" | awk '{print $NF}' | sort >"$tmp/exported"
grep -oE '\bwsrpc_[a-z_]+\(' capi/include/wsrpc.h | tr -d '(' | sort -u >"$tmp/declared"
expect "exported symbols = the functions wsrpc.h declares ($(wc -l <"$tmp/declared"))" \
	"$(cat "$tmp/declared")" "$(cat "$tmp/exported")"

# The pkg-config file: paths relative to ${prefix}, no run-time search path, no build paths.
pc=$lib/pkgconfig/wsrpc.pc
# shellcheck disable=SC2016 # ${prefix} is pkg-config's, not the shell's
expect "wsrpc.pc variables" "$(printf '%s\n' "prefix=$prefix" 'libdir=${prefix}/lib' 'includedir=${prefix}/include')" \
	"$(grep -E '^(prefix|libdir|includedir)=' "$pc")"
expect "wsrpc.pc Version" "Version: $version" "$(grep '^Version:' "$pc")"
expect "wsrpc.pc has no rpath or build path" "" "$(grep -v '^#' "$pc" | grep -nE 'rpath|build' || true)"
pkgconf() { PKG_CONFIG_PATH="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" pkg-config "$@" wsrpc; }
expect "pkg-config --modversion" "$version" "$(pkgconf --modversion)"
read -ra flags <<<"$(pkgconf --cflags --libs)"
expect "pkg-config --cflags --libs" "-I$root$prefix/include -L$lib -lwsrpc" "${flags[*]}"

# The C example, built against the installed copy.
$CC -std=c11 -Wall -Wextra -O2 -o "$tmp/c-client" examples/c/client.c "${flags[@]}" -pthread
readelf -d "$tmp/c-client" >"$tmp/detail"
expect "c-client NEEDED libwsrpc" "[libwsrpc.so.$major]" "$(sed -n 's/.*(NEEDED) *Shared library: \(\[libwsrpc.*\]\)/\1/p' "$tmp/detail")"
expect "c-client has no RPATH/RUNPATH" "" "$(grep -E '\((RPATH|RUNPATH)\)' "$tmp/detail" || true)"
LD_LIBRARY_PATH=$lib ldd "$tmp/c-client" >"$tmp/detail"
expect "c-client loads the installed library" "$lib/libwsrpc.so.$major" \
	"$(sed -n 's/^\s*libwsrpc\.so\.[0-9]* => \(\S*\) .*/\1/p' "$tmp/detail")"

# ... run against the Go example server on a free port.
start_bidi_server
if ! LD_LIBRARY_PATH=$lib timeout 60 "$tmp/c-client" "ws://127.0.0.1:$port/ws" >"$tmp/client.out" 2>&1; then
	cat "$tmp/client.out" "$tmp/server.log" >"$tmp/detail"
	fail "c-client against bidi-server"
fi
cp "$tmp/client.out" "$tmp/detail"
for line in "libwsrpc $version" "server called allow_queries()" 'concat("hello", " world") = "hello world"'; do
	grep -qxF "$line" "$tmp/client.out" || fail "c-client output has no line '$line'"
done
grep -q '^exiting after [0-9.]* s, as the server allowed$' "$tmp/client.out" || fail "c-client did not exit as allowed"
ok "c-client against bidi-server: $(grep -F concat "$tmp/client.out")"

# The C test suite against the installed copy (no sanitizer: make test-c runs it under ASan).
$CC -std=c11 -Wall -Wextra -g -O1 -o "$tmp/test-capi" tests/c/test_capi.c "${flags[@]}" -pthread
if ! LD_LIBRARY_PATH=$lib WSRPC_LOG=off "$tmp/test-capi" >"$tmp/detail" 2>&1; then
	fail "tests/c/test_capi.c against the installed library"
fi
ok "tests/c/test_capi.c against the installed library: $(tail -1 "$tmp/detail")"

finish

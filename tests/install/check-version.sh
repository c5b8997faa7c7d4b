#!/usr/bin/env bash
# The project has one version, the file pkg/wsrpc/VERSION (embedded by the Go package as
# wsrpc.Version, returned by the C library's wsrpc_version() and by the wasm build, read by
# the Python build). This checks every place that has to repeat it or read it, and fails on
# the first that does not.
set -euo pipefail
cd "$(dirname "$0")/../.."

passed=0 failed=0
check() { # check DESCRIPTION WANT GOT
	if [[ "$2" == "$3" ]]; then
		passed=$((passed + 1))
		echo "ok   $1: $3"
	else
		failed=$((failed + 1))
		echo "FAIL $1: got '$3', want '$2'" >&2
	fi
}

version=$(<pkg/wsrpc/VERSION)
if [[ ! "$version" =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$ ]]; then
	echo "FAIL pkg/wsrpc/VERSION: '$version' is not MAJOR.MINOR.PATCH" >&2
	exit 1
fi
IFS=. read -r major minor patch <<<"$version"
echo "version $version (pkg/wsrpc/VERSION)"

# C: the hand-written header repeats it.
hdr=capi/include/wsrpc.h
define() { sed -n "s/^#define $1 \\(.*\\)$/\\1/p" "$hdr"; }
check "$hdr WSRPC_VERSION_MAJOR" "$major" "$(define WSRPC_VERSION_MAJOR)"
check "$hdr WSRPC_VERSION_MINOR" "$minor" "$(define WSRPC_VERSION_MINOR)"
check "$hdr WSRPC_VERSION_PATCH" "$patch" "$(define WSRPC_VERSION_PATCH)"
check "$hdr WSRPC_VERSION_STRING" "\"$version\"" "$(define WSRPC_VERSION_STRING)"

# Go programs that report a version report wsrpc.Version, not a copy.
for f in capi/main.go wasm/main.go; do
	check "$f reports wsrpc.Version" yes "$(grep -q 'wsrpc\.Version' "$f" && echo yes || echo no)"
done

# npm: package.json, and the tests' lock file that links it.
json() { # json FILE KEY... prints the value at that path
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[k]
print(d)' "$@"
}
check "bindings/js/package.json version" "$version" "$(json bindings/js/package.json version)"
check "tests/js/package-lock.json bindings/js version" "$version" \
	"$(json tests/js/package-lock.json packages ../../bindings/js version)"

# Python: the version is dynamic (setup.py reads VERSION), never written in the package.
py=bindings/python
check "$py/pyproject.toml version is dynamic" yes \
	"$(grep -qx 'dynamic = \["version"\]' $py/pyproject.toml && ! grep -q '^version *=' $py/pyproject.toml && echo yes || echo no)"
check "$py/setup.py reads pkg/wsrpc/VERSION" yes \
	"$(grep -q '"pkg" / "wsrpc" / "VERSION"' $py/setup.py && grep -q 'setup(version=VERSION' $py/setup.py && echo yes || echo no)"
check "$py/src/wsrpc/__init__.py has no literal __version__" yes \
	"$(grep -qE '^__version__ = "' $py/src/wsrpc/__init__.py && echo no || echo yes)"

# The README names it.
check "README.md names it" yes "$(grep -qF "The current version is $version:" README.md && echo yes || echo no)"

# The changelog has a section for it.
check "CHANGELOG.md has a [$version] section" yes \
	"$(grep -qF "## [$version]" CHANGELOG.md && echo yes || echo no)"

echo "check-version: $passed passed, $failed failed"
((failed == 0))

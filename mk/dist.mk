# Distribution packages, written to build/dist/ (and built in build/, never in the source tree):
#
#   wheel       Python wheels of the binding (distribution "wsrpc-go", import name wsrpc), one per
#               architecture in WHEEL_ARCHS, each with libwsrpc.so built for glibc 2.17 by
#               `zig cc` (the ziglang package from the package index) and tagged
#               manylinux_2_17 / manylinux2014; `auditwheel show` must agree with the tag.
#   npm         the npm package (bindings/js) as an `npm pack` tarball
#   test-wheel  builds the wheels, installs the x86_64 one into a new venv in a temporary
#               directory and runs examples/python/client.py against the Go bidi-server
#               (tests/install/wheel.sh)
#   test-npm    installs the tarball into a new npm project in a temporary directory, bundles a
#               page with esbuild, runs it in headless Chromium against the Go server, and runs
#               a Node script that imports the package (tests/install/npm.sh)
#
# The packaging tools (zig, auditwheel, setuptools, wheel, brotli) live in their own venv,
# build/pkgtools, pinned here.
DIST := $(BUILD)/dist
PKGTOOLS := $(BUILD)/pkgtools
PKGPY := $(PKGTOOLS)/bin/python
PKGTOOLS_REQS := ziglang==0.17.1 auditwheel==6.8.2 setuptools==84.2.1 wheel==0.48.0 brotli==1.2.1
PY_DIST := wsrpc_go
WHEEL_ARCHS ?= x86_64 aarch64
# Oldest glibc the wheels need (manylinux2014 / manylinux_2_17: CentOS 7, Debian 8, Ubuntu 14.04).
WHEEL_GLIBC := 2.17
wheel_tag = manylinux_2_$(lastword $(subst ., ,$(WHEEL_GLIBC)))_$(1).manylinux2014_$(1)
wheel_file = $(DIST)/$(PY_DIST)-$(VERSION)-py3-none-$(call wheel_tag,$(1)).whl
WHEELS := $(foreach a,$(WHEEL_ARCHS),$(call wheel_file,$(a)))
PY_PKG_SRC := $(shell git ls-files bindings/python | grep -v '^bindings/python/tests/')
NPM_TGZ := $(DIST)/wsrpc-$(VERSION).tgz

TEST_TARGETS += test-wheel test-npm

.PHONY: wheel npm test-wheel test-npm pkgtools

pkgtools: $(PKGTOOLS)/.stamp
$(PKGTOOLS)/.stamp: mk/dist.mk
	rm -rf $(PKGTOOLS)
	python3 -m venv $(PKGTOOLS)
	$(PKGPY) -m pip install -q --disable-pip-version-check --cache-dir $(BUILD)/cache/pip $(PKGTOOLS_REQS)
	touch $@

wheel: $(WHEELS)

# One wheel: the library cross-built for the architecture and glibc, the binding's tracked
# files copied to build/wheel/ARCH/src (the build writes its build/ and *.egg-info there),
# pip wheel, auditwheel show. Fails if the source tree changed meanwhile.
$(DIST)/$(PY_DIST)-$(VERSION)-py3-none-manylinux_%.whl: $(CAPI_DEPS) $(PY_PKG_SRC) $(PKGTOOLS)/.stamp
	@set -euo pipefail; \
	stem='$*'; arch=$${stem##*manylinux2014_}; w=$(BUILD)/wheel/$$arch; \
	case $$arch in x86_64) goarch=amd64;; aarch64) goarch=arm64;; *) echo "wheel: unknown architecture $$arch" >&2; exit 1;; esac; \
	before=$$(git status --porcelain --ignored -- bindings/python); \
	rm -rf $$w; mkdir -p $$w/lib $$w/src $$w/out $(DIST); \
	echo "wheel $$arch: libwsrpc.so (GOARCH=$$goarch, zig cc for $$arch-linux-gnu.$(WHEEL_GLIBC))"; \
	ZIG_GLOBAL_CACHE_DIR=$(BUILD)/cache/zig ZIG_LOCAL_CACHE_DIR=$(BUILD)/cache/zig CGO_ENABLED=1 GOOS=linux GOARCH=$$goarch CC="$(PKGPY) -m ziglang cc -target $$arch-linux-gnu.$(WHEEL_GLIBC)" \
		$(GO) build -trimpath -buildmode=c-shared -ldflags="-s -w $(CAPI_LDFLAGS)" -o $$w/lib/libwsrpc.so ./capi; \
	rm -f $$w/lib/libwsrpc.h; \
	readelf -d $$w/lib/libwsrpc.so | grep -q 'Library soname: \[$(CAPI_SONAME)\]' || { echo "wheel $$arch: SONAME is not $(CAPI_SONAME)" >&2; exit 1; }; \
	git ls-files -z bindings/python | grep -zv '^bindings/python/tests/' | tar -c --null -T - --dereference | tar -x -C $$w/src --strip-components=2; \
	cp $(VERSION_FILE) $$w/src/VERSION; \
	cd $$w/src && WSRPC_LIBRARY=$$w/lib/libwsrpc.so WSRPC_WHEEL_PLATFORM=$(call wheel_tag,$$arch) \
		$(PKGPY) -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w $$w/out . ; \
	cd $(CURDIR); \
	whl=$$w/out/$(notdir $@); test -f $$whl || { ls $$w/out >&2; echo "wheel $$arch: $(notdir $@) not built" >&2; exit 1; }; \
	$(PKGPY) -m auditwheel show $$whl | tee $$w/auditwheel.txt; \
	glibc=$$(tr -s ' \n' ' ' <$$w/auditwheel.txt | sed -n 's/.*consistent with the following platform tag: "manylinux_2_\([0-9]*\)_'$$arch'".*/\1/p'); \
	[[ -n "$$glibc" && "$$glibc" -le $(lastword $(subst ., ,$(WHEEL_GLIBC))) ]] || { echo "wheel $$arch: auditwheel does not find it manylinux_2_17_$$arch or older" >&2; exit 1; }; \
	after=$$(git status --porcelain --ignored -- bindings/python); \
	[[ "$$before" == "$$after" ]] || { echo "wheel $$arch: the build changed the source tree:" >&2; diff <(echo "$$before") <(echo "$$after") >&2; exit 1; }; \
	cp $$whl $@; \
	echo "wheel $$arch: $@ ($$(stat -c %s $@) bytes)"

# Builds every wheel (each checked by auditwheel) and runs the x86_64 one.
test-wheel: $(WHEELS) $(BUILD)/bin/bidi-server
	bash tests/install/wheel.sh $(call wheel_file,x86_64)

npm: $(NPM_TGZ)

# npm pack of a copy of the package (package.json, README.md, LICENSE, dist/ from build/js) in
# build/npm/package; the tarball's file list must be the package.json's "files" and nothing else.
NPM_STAGE := $(BUILD)/npm/package
$(NPM_TGZ): build-wasm bindings/js/package.json bindings/js/README.md LICENSE
	@set -euo pipefail; \
	rm -rf $(BUILD)/npm; mkdir -p $(NPM_STAGE)/dist $(DIST); \
	cp bindings/js/package.json bindings/js/README.md LICENSE $(NPM_STAGE)/; \
	cp $(addprefix $(WASM_OUT)/,$(WASM_FILES)) $(NPM_STAGE)/dist/; chmod 644 $(NPM_STAGE)/dist/*; \
	cd $(NPM_STAGE); \
	npm pkg delete scripts; \
	npm pack --pack-destination $(DIST) --loglevel=error --json >../pack.json; \
	python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))[0]; print("\n".join(sorted(f["path"] for f in p["files"])))' ../pack.json >../files.txt; \
	python3 -c 'import json, sys; print("\n".join(sorted(["LICENSE", "README.md", "package.json"] + json.load(open(sys.argv[1]))["files"])))' package.json >../want.txt; \
	diff -u ../want.txt ../files.txt || { echo "npm: the tarball's files differ from package.json's files" >&2; exit 1; }; \
	echo "npm: $@ ($$(stat -c %s $@) bytes; unpacked $$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["unpackedSize"])' ../pack.json) bytes)"

# (js-deps, chromium and node22 are mk/wasm.mk's, which make reads after this file.)
test-npm: $(NPM_TGZ) build-go $(BUILD)/bin/bidi-server js-deps chromium node22
	NODE22=$(NODE22) JS_TESTS=$(CURDIR)/$(JS_TESTS) bash tests/install/npm.sh $(NPM_TGZ)

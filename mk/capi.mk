# C API (capi/), its C example and tests, and the Python binding over it (bindings/python).
#
#   build-capi       build/libwsrpc.so(.0, .$(VERSION)) + build/include/wsrpc.h + build/wsrpc.pc
#   build-c-example  build/bin/c-client (examples/c/client.c, compiled via pkg-config)
#   test-c           tests/c/test_capi.c under AddressSanitizer + LeakSanitizer (valgrind with VALGRIND=yes),
#                    with a fastapi-ws-rpc server as the peer without batches and tests/cancelserver
#                    as a Go handler to cancel (tests/c/with-peers.sh)
#   test-python      pytest bindings/python/tests in build/venv
#   install-capi     (make install) lib/libwsrpc.so*, include/wsrpc.h, lib/pkgconfig/wsrpc.pc
#                    under $(DESTDIR)$(PREFIX); uninstall-capi removes them
#   test-install-c   installs into a temporary DESTDIR and builds and runs the C example and
#                    tests/c/test_capi.c against that copy (tests/install/c.sh)
CC ?= cc
# The library is built once, as libwsrpc.so.MAJOR.MINOR.PATCH with SONAME libwsrpc.so.MAJOR
# and the usual symlinks to it, in build/ (used in place by the tests and the demo) and by
# make install. Only the wsrpc_* symbols are exported (capi/wsrpc.map).
CAPI_SOVERSION := $(firstword $(subst ., ,$(VERSION)))
CAPI_SONAME := libwsrpc.so.$(CAPI_SOVERSION)
CAPI_REALNAME := libwsrpc.so.$(VERSION)
CAPI_LIB := $(BUILD)/libwsrpc.so
CAPI_HDR := $(BUILD)/include/wsrpc.h
CAPI_PC := $(BUILD)/wsrpc.pc
CAPI_LDFLAGS := -extldflags '-Wl,-soname,$(CAPI_SONAME) -Wl,--version-script=$(CURDIR)/capi/wsrpc.map'
CAPI_DEPS := $(wildcard capi/*.go capi/*.c capi/include/*.h) capi/wsrpc.map $(VERSION_FILE) \
	$(shell find pkg -name '*.go' -not -name '*_test.go') go.mod go.sum
PKGCONF = PKG_CONFIG_PATH=$(BUILD) pkg-config
# AddressSanitizer is the default: it instruments the C side (the test and the library's C
# shims) and LeakSanitizer checks every malloc'd block the library hands out, with no false
# reports from Go's own stacks. Valgrind (VALGRIND=yes) checks the same, but it misreads Go
# runtime stack accesses now and then; tests/c/valgrind.supp names the kinds seen so far.
VALGRIND ?= no

# make install: the usual GNU variables.
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL ?= install
INSTALL_LIBDIR = $(DESTDIR)$(PREFIX)/lib
INSTALL_INCLUDEDIR = $(DESTDIR)$(PREFIX)/include

BUILD_TARGETS += build-capi build-c-example
TEST_TARGETS += test-c test-python test-install-c
INSTALL_TARGETS += install-capi
UNINSTALL_TARGETS += uninstall-capi

.PHONY: build-capi build-c-example test-c test-python python-install install-capi uninstall-capi test-install-c

build-capi: $(CAPI_LIB) $(CAPI_HDR) $(CAPI_PC)

$(CAPI_LIB): $(CAPI_DEPS)
	@mkdir -p $(BUILD)
	$(GO) build -buildmode=c-shared -ldflags="$(CAPI_LDFLAGS)" -o $(BUILD)/$(CAPI_REALNAME) ./capi
	@rm -f $(BUILD)/libwsrpc.h $(BUILD)/libwsrpc.so.*.h # cgo's generated header; the public one is capi/include/wsrpc.h
	ln -sfn $(CAPI_REALNAME) $(BUILD)/$(CAPI_SONAME)
	ln -sfn $(CAPI_SONAME) $@

$(CAPI_HDR): capi/include/wsrpc.h
	@mkdir -p $(dir $@)
	cp $< $@

# In place: libdir is build/ itself and Libs sets the run-time search path to it, so programs
# linked against the build run without LD_LIBRARY_PATH. Installed (install-capi): the usual
# layout, paths relative to ${prefix}, no run-time search path.
$(CAPI_PC): capi/wsrpc.pc.in $(VERSION_FILE)
	sed -e 's|@PREFIX@|$(BUILD)|' -e 's|@LIBDIR@|$${prefix}|' -e 's|@RPATH@|-Wl,-rpath,$${libdir} |' \
		-e 's|@VERSION@|$(VERSION)|' $< >$@

build-c-example: $(BUILD)/bin/c-client

$(BUILD)/bin/c-client: examples/c/client.c $(CAPI_LIB) $(CAPI_HDR) $(CAPI_PC)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -O2 -o $@ $< $$($(PKGCONF) --cflags --libs wsrpc) -pthread

$(BUILD)/bin/test-capi: tests/c/test_capi.c $(CAPI_LIB) $(CAPI_HDR) $(CAPI_PC)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -g -O1 -o $@ $< $$($(PKGCONF) --cflags --libs wsrpc) -pthread

$(BUILD)/bin/test-capi-asan: tests/c/test_capi.c $(CAPI_LIB) $(CAPI_HDR) $(CAPI_PC)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -g -O1 -fsanitize=address -fno-omit-frame-pointer -o $@ $< \
		$$($(PKGCONF) --cflags --libs wsrpc) -pthread

ifeq ($(VALGRIND),yes)
test-c: $(BUILD)/bin/test-capi venv $(BUILD)/bin/wsrpc-cancel-testserver
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	WSRPC_LOG=error bash tests/c/with-peers.sh $(PY) $(BUILD)/bin/wsrpc-cancel-testserver valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
		--error-exitcode=1 --suppressions=tests/c/valgrind.supp --gen-suppressions=all \
		$(BUILD)/bin/test-capi
else
test-c: $(BUILD)/bin/test-capi-asan venv $(BUILD)/bin/wsrpc-cancel-testserver
	WSRPC_LOG=error ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/c/lsan.supp \
		bash tests/c/with-peers.sh $(PY) $(BUILD)/bin/wsrpc-cancel-testserver $(BUILD)/bin/test-capi-asan
endif

# Installs the binding (with libwsrpc.so bundled) into build/venv the way a user would.
python-install: build-capi venv
	$(VENV)/bin/pip install -q --no-build-isolation --force-reinstall --no-deps ./bindings/python
	@rm -rf bindings/python/build bindings/python/src/*.egg-info

test-python: python-install $(BUILD)/bin/bidi-server $(BUILD)/bin/wsrpc-cancel-testserver
	cd bindings/python && WSRPC_TEST_BIN=$(BUILD)/bin $(PY) -m pytest -q -p no:cacheprovider tests

# The Go handler the C and Python cancellation tests cancel.
$(BUILD)/bin/wsrpc-cancel-testserver: $(CAPI_DEPS) $(wildcard tests/cancelserver/*.go)
	@mkdir -p $(BUILD)/bin
	$(GO) build -o $@ ./tests/cancelserver

$(BUILD)/bin/bidi-server: $(CAPI_DEPS) $(wildcard examples/go/bidi-server/*.go)
	@mkdir -p $(BUILD)/bin
	$(GO) build -o $@ ./examples/go/bidi-server

# make install (see the top of this file). The header is the hand-written one; the pkg-config
# file is made for $(PREFIX), without $(DESTDIR).
install-capi: build-capi
	$(INSTALL) -d $(INSTALL_LIBDIR)/pkgconfig $(INSTALL_INCLUDEDIR)
	$(INSTALL) -m 755 $(BUILD)/$(CAPI_REALNAME) $(INSTALL_LIBDIR)/$(CAPI_REALNAME)
	ln -sfn $(CAPI_REALNAME) $(INSTALL_LIBDIR)/$(CAPI_SONAME)
	ln -sfn $(CAPI_SONAME) $(INSTALL_LIBDIR)/libwsrpc.so
	$(INSTALL) -m 644 capi/include/wsrpc.h $(INSTALL_INCLUDEDIR)/wsrpc.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$${prefix}/lib|' -e 's|@RPATH@||' \
		-e 's|@VERSION@|$(VERSION)|' capi/wsrpc.pc.in >$(INSTALL_LIBDIR)/pkgconfig/wsrpc.pc
	@chmod 644 $(INSTALL_LIBDIR)/pkgconfig/wsrpc.pc

uninstall-capi:
	rm -f $(INSTALL_LIBDIR)/$(CAPI_REALNAME) $(INSTALL_LIBDIR)/$(CAPI_SONAME) $(INSTALL_LIBDIR)/libwsrpc.so \
		$(INSTALL_INCLUDEDIR)/wsrpc.h $(INSTALL_LIBDIR)/pkgconfig/wsrpc.pc

test-install-c: build-capi $(BUILD)/bin/bidi-server
	MAKE="$(MAKE)" CC="$(CC)" bash tests/install/c.sh

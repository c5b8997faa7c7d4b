// Package interop proves wire compatibility between wsrpc and the real Python libraries
// (fastapi-ws-rpc 1.2.0, fastapi-websocket-rpc 0.1.29, fastapi-websocket-pubsub 1.0.1) in
// both directions. The Python side lives in py/ (see FINDINGS.md); these tests start those
// scripts with the interpreter named by WSRPC_PYTHON (default build/venv/bin/python).
//
// Every suite records its outcome in a compatibility table (compat_test.go) that TestMain
// writes to build/interop/compat.{json,md}; `make compat-table` copies it into README.md.
package interop

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if exampleBinsDir != "" {
		_ = os.RemoveAll(exampleBinsDir)
	}
	if err := writeCompat(); err != nil {
		fmt.Fprintln(os.Stderr, "interop: writing the compatibility table:", err)
		if code == 0 {
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "interop: leaked goroutines:", err)
			code = 1
		}
	}
	os.Exit(code)
}

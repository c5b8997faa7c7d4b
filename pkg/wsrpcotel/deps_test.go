package wsrpcotel_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCoreDoesNotLinkOpenTelemetry: the core package, the C library and the wasm build
// stay free of OpenTelemetry; only programs that import this package link it.
func TestCoreDoesNotLinkOpenTelemetry(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	for _, c := range []struct {
		env []string
		pkg string
	}{
		{nil, "github.com/wsrpc/wsrpc/pkg/wsrpc"},
		{nil, "github.com/wsrpc/wsrpc/capi"},
		{[]string{"GOOS=js", "GOARCH=wasm"}, "github.com/wsrpc/wsrpc/wasm"},
	} {
		cmd := exec.Command(gobin, "list", "-deps", c.pkg)
		cmd.Env = append(os.Environ(), c.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", c.pkg, err)
		}
		if strings.Contains(string(out), "go.opentelemetry.io") {
			t.Errorf("%s %s depends on OpenTelemetry", strings.Join(c.env, " "), c.pkg)
		}
	}
}

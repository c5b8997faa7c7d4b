package interop

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	exampleBinsOnce sync.Once
	exampleBinsDir  string
	exampleBinsErr  error
)

// exampleBins builds the Go example programs once per test binary run.
func exampleBins(t *testing.T) string {
	t.Helper()
	exampleBinsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wsrpc-interop-examples-")
		if err != nil {
			exampleBinsErr = err
			return
		}
		exampleBinsDir = dir
		cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
			"./examples/go/simple-server", "./examples/go/bidi-server", "./examples/go/simple-client", "./examples/go/bidi-client")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			exampleBinsErr = err
			t.Logf("go build: %s", out)
		}
	})
	if exampleBinsErr != nil {
		t.Fatalf("building the Go examples: %v", exampleBinsErr)
	}
	return exampleBinsDir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runGoExample runs one example binary with a bounded lifetime; for servers it waits until
// the port accepts connections.
func runGoExample(t *testing.T, lifetime time.Duration, name string, args ...string) (*exec.Cmd, *syncBuf, chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), lifetime)
	cmd := exec.CommandContext(ctx, filepath.Join(exampleBins(t), name), args...)
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); cancel() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tail(out.String(), 2000))
		}
	})
	return cmd, out, done
}

func waitPort(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("port %d never opened", port)
}

// TestExamples pairs the Go example programs with our Python equivalents of the upstream
// fastapi-ws-rpc examples (py/examples), in both directions.
func TestExamples(t *testing.T) {
	python(t)
	probeVersions(t)
	t.Run("go_simple_server__py_simple_client", func(t *testing.T) {
		recordCompat(t, rowRPCExamples, 1)
		port := freePort(t)
		runGoExample(t, 2*time.Minute, "simple-server", "-addr", "127.0.0.1:"+strconv.Itoa(port))
		waitPort(t, port)
		p := startPy(t, time.Minute, "examples/simple_client.py", wsURL(port, "/ws"))
		code, out := p.wait(t, 70*time.Second)
		if code != 0 || !contains(out, "hello world") {
			t.Errorf("python client: exit %d, output %q\n%s", code, out, tail(p.stderr.String(), 2000))
		}
	})
	t.Run("go_bidi_server__py_bidi_client", func(t *testing.T) {
		recordCompat(t, rowRPCExamples, 1)
		port := freePort(t)
		runGoExample(t, 2*time.Minute, "bidi-server", "-addr", "127.0.0.1:"+strconv.Itoa(port))
		waitPort(t, port)
		p := startPy(t, time.Minute, "examples/bidi_client.py", wsURL(port, "/ws"))
		code, out := p.wait(t, 70*time.Second)
		if code != 0 || !contains(out, "server called allow_queries()") || !contains(out, "hello world") || !contains(out, "server called allow_exit(delay=") {
			t.Errorf("python client: exit %d, output %q\n%s", code, out, tail(p.stderr.String(), 2000))
		}
	})
	t.Run("py_simple_server__go_simple_client", func(t *testing.T) {
		recordCompat(t, rowRPCExamples, 1)
		_, port := startPyServer(t, "examples/simple_server.py")
		_, out, done := runGoExample(t, time.Minute, "simple-client", "-url", wsURL(port, "/ws"))
		if err := <-done; err != nil || strings.TrimSpace(out.String()) != "hello world" {
			t.Errorf("go client: %v, output %q", err, out.String())
		}
	})
	t.Run("py_bidi_server__go_bidi_client", func(t *testing.T) {
		recordCompat(t, rowRPCExamples, 1)
		_, port := startPyServer(t, "examples/bidi_server.py", "--max-delay", "2")
		_, out, done := runGoExample(t, time.Minute, "bidi-client", "-url", wsURL(port, "/ws"))
		err := <-done
		s := out.String()
		if err != nil || !strings.Contains(s, "server called allow_queries()") || !strings.Contains(s, "hello world") || !strings.Contains(s, "server called allow_exit(delay=") {
			t.Errorf("go client: %v, output %q", err, s)
		}
	})
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

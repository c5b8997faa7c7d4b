package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot is the module root (two levels above this package).
func repoRoot(testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func pyDir(t testing.TB) string { return filepath.Join(repoRoot(t), "tests", "interop", "py") }

// python returns the interpreter to run the Python side with. A missing interpreter skips
// the test on a developer machine and fails it under CI.
func python(t testing.TB) string {
	t.Helper()
	p := os.Getenv("WSRPC_PYTHON")
	if p == "" {
		p = filepath.Join(repoRoot(t), "build", "venv", "bin", "python")
	} else if !filepath.IsAbs(p) && strings.Contains(p, string(filepath.Separator)) {
		p = filepath.Join(repoRoot(t), p)
	}
	if _, err := os.Stat(p); err != nil {
		if lp, lerr := exec.LookPath(p); lerr == nil {
			return lp
		}
		if os.Getenv("CI") == "" {
			t.Skipf("interop: Python interpreter %s not found (run `make venv` or set WSRPC_PYTHON); skipping outside CI", p)
		}
		t.Fatalf("interop: Python interpreter %s not found and CI is set: the interop suites must run in CI (%v)", p, err)
	}
	return p
}

// syncBuf is a goroutine-safe output buffer.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a Python process with a bounded lifetime, killed when the test ends.
type proc struct {
	name   string
	cmd    *exec.Cmd
	lines  chan string // stdout lines; closed at EOF
	stderr *syncBuf
	stdin  io.WriteCloser
	done   chan struct{}
	err    error // set before done is closed
	cancel context.CancelFunc

	mu  sync.Mutex
	out []string // every stdout line seen so far
}

// startPy runs `python py/<script> args...` for at most lifetime.
func startPy(t testing.TB, lifetime time.Duration, script string, args ...string) *proc {
	t.Helper()
	py := python(t)
	ctx, cancel := context.WithTimeout(context.Background(), lifetime)
	cmd := exec.CommandContext(ctx, py, append([]string{"-u", filepath.Join(pyDir(t), script)}, args...)...)
	cmd.Dir = pyDir(t)
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1")
	cmd.WaitDelay = 2 * time.Second
	p := &proc{name: script, cmd: cmd, lines: make(chan string, 1024), stderr: &syncBuf{}, done: make(chan struct{}), cancel: cancel}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", script, err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.out = append(p.out, line)
			p.mu.Unlock()
			select {
			case p.lines <- line:
			default: // nobody reads the channel; the line is still in p.out
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		<-readDone
		p.err = cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s stderr (tail):\n%s", script, tail(p.stderr.String(), 3000))
		}
	})
	return p
}

func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	p.cancel()
	<-p.done
}

// waitLine waits for a stdout line starting with prefix and returns it.
func (p *proc) waitLine(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				t.Fatalf("%s exited (%v) before printing %q; stderr:\n%s", p.name, p.err, prefix, tail(p.stderr.String(), 3000))
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-timer.C:
			t.Fatalf("%s: no %q line within %v; stderr:\n%s", p.name, prefix, timeout, tail(p.stderr.String(), 3000))
		}
	}
}

// wait waits for the process to exit and returns its exit code and all stdout lines.
func (p *proc) wait(t testing.TB, timeout time.Duration) (int, []string) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		t.Errorf("%s did not finish within %v", p.name, timeout)
	}
	p.mu.Lock()
	out := append([]string(nil), p.out...)
	p.mu.Unlock()
	code := 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
	} else if p.err != nil {
		code = -1
	}
	return code, out
}

// startPyServer starts a Python server script on a free loopback port and returns the port.
func startPyServer(t testing.TB, script string, args ...string) (*proc, int) {
	t.Helper()
	p := startPy(t, 3*time.Minute, script, append([]string{"--port", "0", "--lifetime", "170"}, args...)...)
	line := p.waitLine(t, "LISTENING ", 60*time.Second)
	port, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "LISTENING ")))
	if err != nil {
		t.Fatalf("%s: bad LISTENING line %q", script, line)
	}
	return p, port
}

// check is one line of a Python checklist client's output.
type check struct {
	Name   string          `json:"check"`
	OK     bool            `json:"ok"`
	Detail json.RawMessage `json:"detail"`
}

type checkRun struct {
	code    int
	checks  []check
	summary string
	stderr  string
}

func (r checkRun) passed() int {
	n := 0
	for _, c := range r.checks {
		if c.OK {
			n++
		}
	}
	return n
}

func (r checkRun) failedNames() []string {
	var out []string
	for _, c := range r.checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

// runChecklist runs a Python checklist client to completion and parses its JSON lines.
func runChecklist(t testing.TB, timeout time.Duration, script string, args ...string) checkRun {
	t.Helper()
	p := startPy(t, timeout, script, args...)
	code, lines := p.wait(t, timeout+5*time.Second)
	r := checkRun{code: code, stderr: p.stderr.String()}
	for _, l := range lines {
		if strings.HasPrefix(l, "{") {
			var c check
			if err := json.Unmarshal([]byte(l), &c); err == nil && c.Name != "" {
				r.checks = append(r.checks, c)
				continue
			}
		}
		if strings.Contains(l, " passed, ") {
			r.summary = l
		}
	}
	return r
}

// requireAllPass fails the test naming every failed check (with its detail).
func requireAllPass(t testing.TB, r checkRun, minChecks int) {
	t.Helper()
	for _, c := range r.checks {
		if !c.OK {
			t.Errorf("check %s FAILED: %s", c.Name, tail(string(c.Detail), 1500))
		}
	}
	if len(r.checks) < minChecks {
		t.Errorf("only %d checks reported, want at least %d (summary %q); stderr:\n%s", len(r.checks), minChecks, r.summary, tail(r.stderr, 3000))
	}
	if r.code != 0 && !t.Failed() {
		t.Errorf("client exited with %d (summary %q); stderr:\n%s", r.code, r.summary, tail(r.stderr, 3000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func wsURL(port int, path string) string { return fmt.Sprintf("ws://127.0.0.1:%d%s", port, path) }

// Package faults injects real faults (killed servers, half-open links, cut connections,
// silent servers, slow senders, floods) between a wsrpc client and server and checks that
// every call ends with its result or a typed error, and that the client recovers.
package faults

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsrpc-faults")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "testserver")
	out, err := exec.Command("go", "build", "-o", serverBin, "./testserver").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building testserver: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// noLeaks checks for leaked goroutines when the test (and its other cleanups) end.
func noLeaks(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// serverProc is the test server running as a child process.
type serverProc struct {
	t    *testing.T
	addr string
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// startServer runs the test server on addr ("127.0.0.1:0" picks a port).
func startServer(t *testing.T, addr string, args ...string) *serverProc {
	s := &serverProc{t: t, args: args}
	s.start(addr)
	t.Cleanup(s.kill)
	return s
}

func (s *serverProc) start(addr string) {
	s.t.Helper()
	var lastErr error
	for i := 0; i < 50; i++ {
		cmd := exec.Command(serverBin, append([]string{"-addr", addr}, s.args...)...)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			s.t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			s.t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && strings.HasPrefix(line, "LISTENING ") {
			s.mu.Lock()
			s.cmd, s.addr = cmd, strings.TrimSpace(strings.TrimPrefix(line, "LISTENING "))
			s.mu.Unlock()
			go io.Copy(io.Discard, out)
			return
		}
		lastErr = err
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		time.Sleep(50 * time.Millisecond) // port still in use: try again
	}
	s.t.Fatalf("test server did not start: %v", lastErr)
}

func (s *serverProc) url() string { return "ws://" + s.addr + "/ws" }

// kill ends the server with SIGKILL: no close frames, no FIN handshake from the app.
func (s *serverProc) kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

func (s *serverProc) restart() { s.start(s.addr) }

// proxy forwards TCP connections to a target and can misbehave on demand.
type proxy struct {
	l      net.Listener
	target string
	hole   atomic.Bool // when set, bytes are swallowed in both directions (half-open link)
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) url() string { return "ws://" + p.l.Addr().String() + "/ws" }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.hole.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			p.drop(src)
			p.drop(dst)
			return
		}
	}
}

func (p *proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST, like a crashed middlebox
	}
	c.Close()
}

// cut resets every connection passing through the proxy.
func (p *proxy) cut() int {
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		p.drop(c)
	}
	return len(conns) / 2
}

func (p *proxy) close() {
	p.l.Close()
	p.cut()
	p.wg.Wait()
}

// tally counts how calls ended. A call is "lost" when it neither succeeded nor failed with
// one of the library's typed errors within its deadline.
type tally struct {
	issued, ok, typedErr, lost atomic.Int64
	mu                         sync.Mutex
	kinds                      map[string]int
	lostErrs                   []string
}

func newTally() *tally { return &tally{kinds: map[string]int{}} }

func (t *tally) record(err error) {
	t.issued.Add(1)
	if err == nil {
		t.ok.Add(1)
		return
	}
	kind := ""
	var re *wsrpc.Error
	switch {
	case errors.Is(err, wsrpc.ErrConnectionLost):
		kind = "connection lost"
	case errors.Is(err, wsrpc.ErrTimeout):
		kind = "timeout"
	case errors.Is(err, wsrpc.ErrNotConnected):
		kind = "not connected"
	case errors.Is(err, wsrpc.ErrBackpressure):
		kind = "backpressure"
	case errors.Is(err, wsrpc.ErrClosed):
		kind = "closed"
	case errors.As(err, &re):
		kind = fmt.Sprintf("remote %d", re.Code)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if kind == "" {
		t.lost.Add(1)
		if len(t.lostErrs) < 5 {
			t.lostErrs = append(t.lostErrs, err.Error())
		}
		return
	}
	t.typedErr.Add(1)
	t.kinds[kind]++
}

func (t *tally) report(tb testing.TB, name string, recovery time.Duration) {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	tb.Logf("FAULT %-22s issued=%d succeeded=%d typed-errors=%d lost=%d recovery=%v errors=%v",
		name, t.issued.Load(), t.ok.Load(), t.typedErr.Load(), t.lost.Load(), recovery.Round(time.Millisecond), t.kinds)
	if t.lost.Load() != 0 {
		tb.Errorf("%d calls lost (untyped or hung): %v", t.lost.Load(), t.lostErrs)
	}
	if t.issued.Load() != t.ok.Load()+t.typedErr.Load()+t.lost.Load() {
		tb.Errorf("accounting: issued %d != %d+%d+%d", t.issued.Load(), t.ok.Load(), t.typedErr.Load(), t.lost.Load())
	}
}

// waitUp calls echo until it succeeds and returns how long that took.
func waitUp(t *testing.T, c *wsrpc.Client, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Call(ctx, "echo", map[string]string{"text": "up"}, nil)
		cancel()
		if err == nil {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("client did not recover within %v", limit)
	return 0
}

func dial(t *testing.T, url string, opts ...wsrpc.Option) *wsrpc.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, url, append([]wsrpc.Option{wsrpc.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

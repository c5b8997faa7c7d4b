package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// raiseNoFile lifts RLIMIT_NOFILE to its hard limit (10,000 connections need it).
func raiseNoFile() uint64 {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return 0
	}
	r.Cur = r.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	return r.Cur
}

// childStats is what a server child process reports about itself.
type childStats struct {
	RSSKiB     int64  `json:"rss_kib"`
	PeakRSSKiB int64  `json:"peak_rss_kib"` // VmHWM: the largest RSS so far
	Goroutines int    `json:"goroutines"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Conns      int    `json:"conns"`
}

func rssKiB() int64 { return statusKiB("VmRSS:") }

// statusKiB reads a field of /proc/self/status in KiB (VmRSS:, VmHWM:).
func statusKiB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// runChild is the server process: `-child wsrpc|wsrpc-default|responder|echo|echo-responder
// [-cpuprofile f]`.
// It prints "URL <url>", then answers "stats" lines on stdin with a JSON line and exits
// at "quit" or end of input.
func runChild(kind, cpuprofile string) error {
	raiseNoFile()
	var (
		url   string
		stop  func()
		conns func() int
	)
	switch kind {
	case "wsrpc", "wsrpc-default":
		var opts []wsrpc.Option
		if kind == "wsrpc" {
			opts = append(opts, loadLimits)
		}
		s, err := newWSServer(opts...)
		if err != nil {
			return err
		}
		url, stop, conns = s.URL, s.Close, func() int { return len(s.srv.Channels()) }
	case "responder", "echo", "echo-responder":
		h := rawResponder
		switch kind {
		case "echo":
			h = rawEcho
		case "echo-responder":
			h = rawEchoResponder
		}
		s, err := serveWS(h)
		if err != nil {
			return err
		}
		url, stop = s.URL, s.Close
		conns = func() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.conns) }
	default:
		return fmt.Errorf("unknown child kind %q", kind)
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	fmt.Printf("URL %s\n", url)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "stats":
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b, _ := json.Marshal(childStats{RSSKiB: rssKiB(), PeakRSSKiB: statusKiB("VmHWM:"), Goroutines: runtime.NumGoroutine(),
				HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Conns: conns()})
			fmt.Printf("%s\n", b)
		case "quit":
			stop()
			return nil
		}
	}
	stop()
	return nil
}

// child is a running server child process.
type child struct {
	URL string
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
	mu  sync.Mutex
}

func startChild(kind string, extra ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{"-child", kind}, extra...)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if !c.out.Scan() {
		c.kill()
		return nil, fmt.Errorf("server child %s did not start", kind)
	}
	u, ok := strings.CutPrefix(c.out.Text(), "URL ")
	if !ok {
		c.kill()
		return nil, fmt.Errorf("server child %s: unexpected %q", kind, c.out.Text())
	}
	c.URL = u
	return c, nil
}

func (c *child) stats() (childStats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s childStats
	if _, err := io.WriteString(c.in, "stats\n"); err != nil {
		return s, err
	}
	if !c.out.Scan() {
		return s, fmt.Errorf("server child exited")
	}
	return s, json.Unmarshal(c.out.Bytes(), &s)
}

// stop asks the child to close its server and exit (writing its profile).
func (c *child) stop() error {
	_, _ = io.WriteString(c.in, "quit\n")
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		c.kill()
		return fmt.Errorf("server child did not exit")
	}
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

// idleResult is section 5: memory per idle connection on the server.
type idleResult struct {
	Conns           int     `json:"conns"`
	RSSDeltaKiB     int64   `json:"rss_delta_kib"`
	KiBPerConn      float64 `json:"rss_kib_per_conn"`
	HeapPerConn     float64 `json:"heap_inuse_bytes_per_conn"`
	StackPerConn    float64 `json:"stack_inuse_bytes_per_conn"`
	GoroutinesDelta int     `json:"goroutines_delta"`
	GoroutinesPer   float64 `json:"goroutines_per_conn"`
	Err             string  `json:"error,omitempty"`
}

// measureIdle opens n idle connections to a wsrpc server (default configuration) in a
// child process and reports the child's growth per connection.
func measureIdle(n int) (r idleResult) {
	r.Conns = n
	if lim := raiseNoFile(); lim < uint64(n)+256 {
		r.Err = fmt.Sprintf("RLIMIT_NOFILE is %d; %d connections need more", lim, n)
		return r
	}
	ch, err := startChild("wsrpc-default")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	var conns []*websocket.Conn
	defer func() {
		ch.kill()
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	// One connection first so the base already has everything a connection warms up.
	first, err := dialRaw(context.Background(), ch.URL)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	conns = append(conns, first)
	if err := waitConns(ch, 1); err != nil {
		r.Err = err.Error()
		return r
	}
	time.Sleep(200 * time.Millisecond)
	base, err := ch.stats()
	if err != nil {
		r.Err = err.Error()
		return r
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var dialErr error
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				c, err := dialRaw(ctx, ch.URL)
				cancel()
				mu.Lock()
				if err != nil {
					if dialErr == nil {
						dialErr = err
					}
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if dialErr != nil {
		r.Err = fmt.Sprintf("after %d connections: %v", len(conns)-1, dialErr)
		return r
	}
	if err := waitConns(ch, n+1); err != nil {
		r.Err = err.Error()
		return r
	}
	time.Sleep(500 * time.Millisecond)
	after, err := ch.stats()
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.RSSDeltaKiB = after.RSSKiB - base.RSSKiB
	r.KiBPerConn = float64(r.RSSDeltaKiB) / float64(n)
	r.HeapPerConn = (float64(after.HeapInuse) - float64(base.HeapInuse)) / float64(n)
	r.StackPerConn = (float64(after.StackInuse) - float64(base.StackInuse)) / float64(n)
	r.GoroutinesDelta = after.Goroutines - base.Goroutines
	r.GoroutinesPer = float64(r.GoroutinesDelta) / float64(n)
	// The server goes first (the deferred kill), so the TIME_WAIT states stay off the
	// client's ephemeral ports.
	return r
}

func waitConns(ch *child, n int) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := ch.stats()
		if err != nil {
			return err
		}
		if s.Conns >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server has %d of %d connections", s.Conns, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

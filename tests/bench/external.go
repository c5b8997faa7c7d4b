package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runExternal runs a load program (C or Python) that prints one JSON result line.
func runExternal(t timings, name string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), t.warm+t.dur+t.drain+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "WSRPC_LOG=error", "PYTHONDONTWRITEBYTECODE=1")
	runErr := cmd.Run()
	var r result
	line := lastLine(stdout.String())
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if runErr != nil {
			msg = runErr.Error() + ": " + msg
		}
		return result{Err: fmt.Sprintf("%s: no result (%s)", filepath.Base(name), tail(msg, 300))}
	}
	if runErr != nil && r.Err == "" {
		r.Err = fmt.Sprintf("%v: %s", runErr, tail(strings.TrimSpace(stderr.String()), 300))
	}
	return r
}

// runExternalRounds runs the program n times in a row and keeps the median of each
// number (the first failure, if one fails): one run of a process of its own is at the
// mercy of where the scheduler puts its threads for those seconds.
func runExternalRounds(t timings, n int, name string, args ...string) result {
	rs := make([]result, 0, n)
	for range n {
		r := runExternal(t, name, args...)
		if r.Err != "" {
			return r
		}
		rs = append(rs, r)
	}
	med := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	out := result{
		Rate:  med(func(r result) float64 { return r.Rate }),
		P50us: med(func(r result) float64 { return r.P50us }),
		P99us: med(func(r result) float64 { return r.P99us }),
		MaxUs: med(func(r result) float64 { return r.MaxUs }),
	}
	for _, r := range rs {
		out.Calls += r.Calls
		out.Seconds += r.Seconds
	}
	return out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// pyServer is the fastapi-ws-rpc server process.
type pyServer struct {
	URL string
	cmd *exec.Cmd
}

func startPyServer(python, script string) (*pyServer, error) {
	cmd := exec.Command(python, script, "--lifetime", "600")
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				port <- p
			}
		}
		close(port)
	}()
	select {
	case p, ok := <-port:
		if ok {
			return &pyServer{URL: "ws://127.0.0.1:" + p + "/ws", cmd: cmd}, nil
		}
	case <-time.After(30 * time.Second):
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("%s did not start", filepath.Base(script))
}

func (p *pyServer) Close() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // uvicorn shuts down gracefully
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// runProfiles writes CPU profiles of the wsrpc server and of the wsrpc client, each at 256
// calls in flight on one connection and each in a process of its own: the server (child
// process) driven by the raw generator, the client (this process) against the raw
// responder (child process). Then the same with large messages (section 12's echo of
// 1 MiB at 4 in flight): server-large.pprof and client-large.pprof.
func runProfiles(dir string, d time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t := timings{warm: 500 * time.Millisecond, dur: d, drain: 30 * time.Second}
	if err := profilePair(dir, "", t, 256, concatWork, nil); err != nil {
		return err
	}
	payload := jsonPayload(1 << 20)
	return profilePair(dir, "-large", t, 4, echoWork(payload), echoCall(payload))
}

// profilePair profiles the server (raw generator of w -> wsrpc server child) and the
// client (call, nil for concat, -> responder child) at n in flight.
func profilePair(dir, suffix string, t timings, n int, w workload, call func(ctx context.Context, c *wsrpc.Client) error) error {
	srvProf, _ := filepath.Abs(filepath.Join(dir, "server"+suffix+".pprof"))
	srv, err := startChild("wsrpc", "-cpuprofile", srvProf)
	if err != nil {
		return err
	}
	g, err := newRawGenWith(srv.URL, 1, n, w, nil)
	if err != nil {
		srv.kill()
		return err
	}
	r := timed(t, g.start)
	g.close()
	if err := srv.stop(); err != nil {
		return err
	}
	fmt.Printf("server: raw generator -> wsrpc server @%d: %.0f calls/s, p50 %.0fµs %s -> %s\n", n, r.Rate, r.P50us, r.Err, srvProf)

	kind := "responder"
	if call != nil {
		kind = "echo-responder"
	}
	resp, err := startChild(kind)
	if err != nil {
		return err
	}
	defer resp.kill()
	c, err := newWSClients(resp.URL, 1, n)
	if err != nil {
		return err
	}
	c.call = call
	cliProf := filepath.Join(dir, "client"+suffix+".pprof")
	f, err := os.Create(cliProf)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	r = timed(t, c.start)
	pprof.StopCPUProfile()
	f.Close()
	c.close()
	fmt.Printf("client: wsrpc client -> raw %s @%d: %.0f calls/s, p50 %.0fµs %s -> %s\n", kind, n, r.Rate, r.P50us, r.Err, cliProf)
	return nil
}

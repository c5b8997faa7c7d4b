package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// runProfiles writes CPU profiles of the wsrpc server and of the wsrpc client, each at 256
// calls in flight on one connection and each in a process of its own: the server (child
// process) driven by the raw generator, the client (this process) against the raw
// responder (child process).
func runProfiles(dir string, d time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t := timings{warm: 500 * time.Millisecond, dur: d, drain: 30 * time.Second}

	srvProf, _ := filepath.Abs(filepath.Join(dir, "server.pprof"))
	srv, err := startChild("wsrpc", "-cpuprofile", srvProf)
	if err != nil {
		return err
	}
	g, err := newRawGen(srv.URL, 1, 256)
	if err != nil {
		srv.kill()
		return err
	}
	r := timed(t, g.start)
	g.close()
	if err := srv.stop(); err != nil {
		return err
	}
	fmt.Printf("server: raw generator -> wsrpc server @256: %.0f calls/s, p50 %.0fµs %s -> %s\n", r.Rate, r.P50us, r.Err, srvProf)

	resp, err := startChild("responder")
	if err != nil {
		return err
	}
	defer resp.kill()
	c, err := newWSClients(resp.URL, 1, 256)
	if err != nil {
		return err
	}
	cliProf := filepath.Join(dir, "client.pprof")
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
	fmt.Printf("client: wsrpc client -> raw responder @256: %.0f calls/s, p50 %.0fµs %s -> %s\n", r.Rate, r.P50us, r.Err, cliProf)
	return nil
}

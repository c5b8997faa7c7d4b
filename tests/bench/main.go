// Command wsrpc-bench is `make bench`'s loopback benchmark: wsrpc against a raw
// coder/websocket echo of the same bytes (the ceiling for this stack), the C and Python
// bindings against the Go client, the Python library fastapi-ws-rpc, sourcegraph/jsonrpc2,
// idle-connection memory, notifications, allocations (from the Go benchmarks in this
// package), the wasm size, handlers that wait against a goroutine-per-request server, 1,000
// connections, wss://, and large messages (throughput, and the peak RSS of a server
// process). Every number is a ratio against a baseline measured in the same run. It prints
// a table and writes <out>/results.json.
//
//	wsrpc-bench [-smoke] [-out build/bench] [-gobench build/bench/go.txt] [-sections 9,12] ...
//	wsrpc-bench -profile build/bench   # CPU profiles of the client and the server at 256 in flight
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

type options struct {
	smoke      bool
	out        string
	goBench    string
	python     string
	pyDir      string
	cload      string
	wasm       string
	idleConns  int
	pyInflight int
	sections   string
	shapes     string
	t          timings
}

func main() {
	var o options
	var child, cpuprofile, profile string
	var dur, warm time.Duration
	flag.BoolVar(&o.smoke, "smoke", false, "tiny durations and connection counts (a quick check that everything runs)")
	flag.StringVar(&o.out, "out", "build/bench", "directory for results.json")
	flag.StringVar(&o.goBench, "gobench", "", "output of `go test -bench . -benchmem ./tests/bench` to take allocations from")
	flag.StringVar(&o.python, "python", "build/venv/bin/python", "Python with fastapi-ws-rpc and the wsrpc binding installed")
	flag.StringVar(&o.pyDir, "pydir", "tests/bench/py", "directory of the Python load programs")
	flag.StringVar(&o.cload, "cload", "build/bin/wsrpc-bench-cload", "the C load program (tests/bench/c/load.c)")
	flag.StringVar(&o.wasm, "wasm", "build/js/wsrpc.wasm", "the wasm build")
	flag.IntVar(&o.idleConns, "idle-conns", 10000, "idle connections for the memory measurement")
	flag.IntVar(&o.pyInflight, "py-inflight", 16, "calls in flight for the fastapi-ws-rpc comparison")
	flag.StringVar(&o.sections, "sections", "all", "sections to run, comma-separated numbers (e.g. 1,9,12), or all")
	flag.StringVar(&o.shapes, "shapes", "", "section 1: only these load shapes, comma-separated (e.g. 1,256,64x4); default all")
	flag.DurationVar(&dur, "dur", 2*time.Second, "measured window of each measurement")
	flag.DurationVar(&warm, "warm", 500*time.Millisecond, "warm-up before each window")
	flag.StringVar(&profile, "profile", "", "write client.pprof and server.pprof (256 in flight) to this directory and exit")
	flag.StringVar(&child, "child", "", "internal: run as a server child process of this kind")
	flag.StringVar(&cpuprofile, "cpuprofile", "", "CPU profile of this process for the whole run (with -child: the child's)")
	flag.Parse()

	if child != "" {
		if err := runChild(child, cpuprofile); err != nil {
			fmt.Fprintln(os.Stderr, "wsrpc-bench child:", err)
			os.Exit(1)
		}
		return
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "wsrpc-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	o.t = timings{warm: warm, dur: dur, drain: 30 * time.Second}
	if o.smoke {
		o.t = timings{warm: 50 * time.Millisecond, dur: 200 * time.Millisecond, drain: 20 * time.Second}
		o.idleConns = min(o.idleConns, 200)
	}
	raiseNoFile()
	if profile != "" {
		if err := runProfiles(profile, max(dur, 3*time.Second)); err != nil {
			fmt.Fprintln(os.Stderr, "wsrpc-bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "wsrpc-bench:", err)
		os.Exit(1)
	}
	rep := run(o)
	pprof.StopCPUProfile() // (no-op without -cpuprofile; os.Exit below skips defers)
	rep.print(os.Stdout)
	path := filepath.Join(o.out, "results.json")
	if err := rep.write(path); err != nil {
		fmt.Fprintln(os.Stderr, "wsrpc-bench:", err)
		os.Exit(1)
	}
	fmt.Printf("\nJSON: %s\n", path)
	if rep.failedToRun > 0 {
		fmt.Fprintf(os.Stderr, "wsrpc-bench: %d measurement(s) could not run (see the table)\n", rep.failedToRun)
		os.Exit(1)
	}
}

func header(o options) meta {
	return meta{
		Time:       time.Now().UTC().Format(time.RFC3339),
		GoVersion:  runtime.Version(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		WarmS:      o.t.warm.Seconds(),
		WindowS:    o.t.dur.Seconds(),
		Smoke:      o.smoke,
	}
}

// rounds is n, or 1 with -smoke.
func (o options) rounds(n int) int {
	if o.smoke {
		return 1
	}
	return n
}

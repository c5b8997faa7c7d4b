package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

const (
	nameRawEcho    = "raw echo (baseline)"
	nameE2E        = "wsrpc client -> wsrpc server"
	nameClientSide = "wsrpc client -> raw responder"
	nameServerSide = "raw generator -> wsrpc server"
	nameE2ESpin    = "wsrpc client (SpinWait 100µs) -> wsrpc server"
	nameE2EDead    = "wsrpc client (5 s deadline per call) -> wsrpc server"
	shapeOwnProc   = "1, server process" // section 1: 1 in flight, the server in a process of its own
	namePyPy       = "python client -> python server"
	namePyWS       = "python client -> wsrpc server"
	nameCSync      = "C wsrpc_client_call, 1 thread"
	namePySync     = "Python Client.call, 1 thread"
	namePyAsync    = "Python await Client.acall"
	nameWSPy       = "wsrpc client -> python server"
	nameJSONRPC2   = "jsonrpc2 client -> jsonrpc2 server"

	nameGoroutineServer   = "raw generator -> goroutine-per-request server (baseline)"
	nameRawToResponder    = "raw generator -> raw echo responder (baseline)"
	nameClientToResponder = "wsrpc client (ValidJSON params) -> raw echo responder"
	nameClientRawParams   = "wsrpc client (json.RawMessage params) -> raw echo responder"
	nameE2EString         = "Go wsrpc client -> wsrpc server (baseline)"
	nameCEcho             = "C wsrpc_client_call_async -> wsrpc server"
	namePyEcho            = "Python await Client.acall -> wsrpc server"
)

var sectionTitles = map[string]string{
	"1":  "concat round trips, ratio to a raw coder/websocket echo of the same bytes (shape: in flight on one connection, or connections x in flight; variants measured in turn, 3 rounds; 6 rounds and a window twice as long at 1 in flight)",
	"2":  "concat through libwsrpc from C and Python, ratio to the Go client (wsrpc client -> wsrpc server, same in flight); each row the median of 3 runs",
	"3":  "fastapi-ws-rpc 1.2.0 (FastAPI + uvicorn), ratio to wsrpc client -> wsrpc server",
	"6":  "notifications one way (16 senders, one connection; counted at the receiver), ratio to raw websocket",
	"8":  "sourcegraph/jsonrpc2 over coder/websocket (default in-order handler), ratio to the raw echo (measured in turn with section 1)",
	"9":  "handlers that wait (time.Sleep for a database; shape: in flight, wait), ratio to a goroutine-per-request server on coder/websocket (encoding/json, replies under a mutex); both driven by the raw generator; 3 rounds",
	"10": "many connections, one concat in flight on each (shape: connections x in flight), ratio to the raw echo; raw generator; 3 rounds",
	"11": "wss:// (TLS 1.3 on loopback, self-signed ECDSA certificate), concat round trips, ratio to a raw TLS coder/websocket echo; 3 rounds (6 and a window twice as long at 1 in flight)",
	"12": "large messages: echo returning its params (json.RawMessage); MB/s of params echoed; shape: payload, in flight; server side ratio to the raw echo, client side to the raw generator against the same responder, with params the caller vouches for (wsrpc.ValidJSON: sent as they are) and as json.RawMessage (validated before sending: one more pass); 3 rounds. The 1 MiB binding rows (payload [\"xxx...\"]) are a ratio to the Go client, measured once each",
}

// sectionMax lists the sections whose table shows the largest latency.
var sectionMax = map[string]bool{"9": true}

type meta struct {
	Time       string  `json:"time"`
	GoVersion  string  `json:"go_version"`
	GOOS       string  `json:"goos"`
	GOARCH     string  `json:"goarch"`
	NumCPU     int     `json:"num_cpu"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	WarmS      float64 `json:"warmup_s"`
	WindowS    float64 `json:"window_s"`
	Smoke      bool    `json:"smoke"`
}

type row struct {
	Section  string `json:"section"`
	Name     string `json:"name"`
	Shape    string `json:"shape"`
	Conns    int    `json:"conns"`
	InFlight int    `json:"inflight"`
	Unit     string `json:"unit,omitempty"`
	result
	Baseline  string  `json:"baseline,omitempty"`
	RatioRate float64 `json:"ratio_calls_per_sec,omitempty"`
	RatioP50  float64 `json:"ratio_p50,omitempty"`
	RatioP99  float64 `json:"ratio_p99,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// ratioTo sets the ratios of r to base (rate: r/base; latencies: r/base).
func (r *row) ratioTo(base *row) *row {
	if base == nil || base.Err != "" || r.Err != "" {
		return r
	}
	r.Baseline = base.Name + " @" + base.Shape
	if base.Rate > 0 {
		r.RatioRate = r.Rate / base.Rate
	}
	if base.P50us > 0 && r.P50us > 0 {
		r.RatioP50 = r.P50us / base.P50us
	}
	if base.P99us > 0 && r.P99us > 0 {
		r.RatioP99 = r.P99us / base.P99us
	}
	return r
}

type allocRow struct {
	Name        string  `json:"name"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	NsPerOp     float64 `json:"ns_per_op"`
	Runs        int     `json:"runs"`
}

type allocs struct {
	Source string     `json:"source"`
	Rows   []allocRow `json:"rows"`
	Err    string     `json:"error,omitempty"`
}

func (a *allocs) get(name string) *allocRow {
	if a == nil {
		return nil
	}
	for i := range a.Rows {
		if a.Rows[i].Name == name {
			return &a.Rows[i]
		}
	}
	return nil
}

type wasmResult struct {
	Path string `json:"path"`
	Raw  int64  `json:"raw_bytes"`
	Gzip int64  `json:"gzip9_bytes"`
	Err  string `json:"error,omitempty"`
}

type target struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Limit    float64 `json:"limit"`
	AtLeast  bool    `json:"at_least"`
	Unit     string  `json:"unit"`
	Verdict  string  `json:"verdict"` // PASS, FAIL or N/A
	Measured string  `json:"measured"`
}

type report struct {
	Meta   meta        `json:"meta"`
	Rows   []*row      `json:"rows"`
	Allocs *allocs     `json:"allocs,omitempty"`
	Idle   *idleResult `json:"idle,omitempty"`
	Wasm   *wasmResult `json:"wasm,omitempty"`
	// LargeRSS is section 12's peak RSS of a wsrpc server process under large messages.
	LargeRSS *rssResult `json:"large_rss,omitempty"`
	Targets  []target   `json:"targets"`
	Notes    []string   `json:"notes,omitempty"`

	failedToRun int
}

func (rep *report) add(r row) *row {
	p := &r
	if p.Unit == "" {
		p.Unit = "calls/s"
	}
	if p.Err != "" {
		rep.failedToRun++
	}
	rep.Rows = append(rep.Rows, p)
	return p
}

func (rep *report) find(section, name, shape string) *row {
	for _, r := range rep.Rows {
		if r.Section == section && r.Name == name && r.Shape == shape && r.Err == "" {
			return r
		}
	}
	return nil
}

// evaluate fills the targets (printed, never asserted).
func (rep *report) evaluate() {
	add := func(name string, value, limit float64, atLeast bool, unit, measured string, ok bool) {
		t := target{Name: name, Value: value, Limit: limit, AtLeast: atLeast, Unit: unit, Measured: measured, Verdict: "N/A"}
		if ok {
			if (atLeast && value >= limit) || (!atLeast && value <= limit) {
				t.Verdict = "PASS"
			} else {
				t.Verdict = "FAIL"
			}
		}
		rep.Targets = append(rep.Targets, t)
	}
	ratio := func(section, name, shape string, p50 bool) (float64, bool) {
		r := rep.find(section, name, shape)
		if r == nil {
			return 0, false
		}
		if p50 {
			return r.RatioP50, r.RatioP50 > 0
		}
		return r.RatioRate, r.RatioRate > 0
	}
	v, ok := ratio("1", nameClientSide, "256", false)
	add("client side @256 in flight: calls/s vs raw echo", v, 0.80, true, "x", nameClientSide, ok)
	v, ok = ratio("1", nameServerSide, "256", false)
	add("server side @256 in flight: calls/s vs raw echo", v, 0.80, true, "x", nameServerSide, ok)
	v, ok = ratio("1", nameE2E, "256", false)
	add("end to end @256 in flight: calls/s vs raw echo (informational)", v, 0.80, true, "x", nameE2E, ok)
	v, ok = ratio("1", nameE2E, "1", true)
	add("p50 latency @1 in flight vs raw echo", v, 1.25, false, "x", nameE2E, ok)
	v, ok = ratio("1", nameE2ESpin, "1", true)
	add("p50 latency @1 in flight vs raw echo, opt-in SpinWait (informational)", v, 1.25, false, "x", nameE2ESpin, ok)
	v, ok = ratio("1", nameE2EDead, "1", true)
	add("p50 latency @1 in flight vs raw echo, 5 s deadline per call (informational)", v, 1.25, false, "x", nameE2EDead, ok)
	v, ok = ratio("1", nameE2E, shapeOwnProc, true)
	add("p50 latency @1 in flight vs raw echo, server process of its own (informational)", v, 1.25, false, "x", nameE2E, ok)
	v, ok = ratio("1", nameE2EDead, shapeOwnProc, true)
	add("p50 latency @1 in flight vs raw echo, server process of its own, 5 s deadline per call (informational)", v, 1.25, false, "x", nameE2EDead, ok)
	v, ok = ratio("1", nameE2ESpin, shapeOwnProc, true)
	add("p50 latency @1 in flight vs raw echo, server process of its own, opt-in SpinWait (informational)", v, 1.25, false, "x", nameE2ESpin, ok)
	// Section 2: the bindings. Their 1-in-flight rows cross a process boundary that the Go
	// client's baseline (in-process) does not; the raw echo with its server in a process of
	// its own (section 1) is that crossing alone, the floor, shown beside each target.
	floor := rep.find("1", nameRawEcho, shapeOwnProc)
	for _, b := range []struct {
		name  string
		limit float64
	}{{nameCSync, 3}, {namePySync, 4}} {
		v, ok = ratio("2", b.name, "1", true)
		add(fmt.Sprintf("%s: p50 @1 in flight vs the Go client", b.name), v, b.limit, false, "x", b.name, ok)
		r := rep.find("2", b.name, "1")
		okF := r != nil && r.Err == "" && r.P50us > 0 && floor != nil && floor.Err == "" && floor.P50us > 0
		v = 0
		if okF {
			v = r.P50us / floor.P50us
		}
		add(fmt.Sprintf("%s: p50 @1 in flight vs the raw echo across processes, the floor (informational)", b.name), v, b.limit, false, "x", b.name, okF)
	}
	{
		r, py := rep.find("2", namePyAsync, "256"), (*row)(nil)
		for _, x := range rep.Rows {
			if x.Section == "3" && x.Name == namePyWS { // (at -py-inflight)
				py = x
			}
		}
		okA := r != nil && r.Err == "" && py != nil && py.Err == "" && py.Rate > 0
		v = 0
		if okA {
			v = r.Rate / py.Rate
		}
		add(fmt.Sprintf("%s @256: calls/s vs fastapi-ws-rpc's client (section 3)", namePyAsync), v, 10, true, "x", namePyAsync, okA)
	}
	if a := rep.Allocs.get("RoundTrip/wsrpc/inflight=1"); a != nil {
		add("allocations per call round trip (client + server)", a.AllocsPerOp, 12, false, "allocs", "BenchmarkRoundTrip/wsrpc/inflight=1", true)
	} else {
		add("allocations per call round trip (client + server)", 0, 12, false, "allocs", "BenchmarkRoundTrip/wsrpc/inflight=1", false)
	}
	if rep.Idle != nil && rep.Idle.Err == "" {
		add("server memory per idle connection", rep.Idle.KiBPerConn, 24, false, "KiB", fmt.Sprintf("RSS delta / %d connections", rep.Idle.Conns), true)
	} else {
		add("server memory per idle connection", 0, 24, false, "KiB", "RSS delta / connections", false)
	}
	var wsws, wspy, pyws *row
	for _, r := range rep.Rows {
		if r.Section != "3" || r.Err != "" {
			continue
		}
		switch r.Name {
		case nameE2E:
			wsws = r
		case nameWSPy:
			wspy = r
		case namePyWS:
			pyws = r
		}
	}
	okS := wsws != nil && wspy != nil && wspy.Rate > 0
	okC := wsws != nil && pyws != nil && pyws.Rate > 0
	var vs, vc float64
	if okS {
		vs = wsws.Rate / wspy.Rate
	}
	if okC {
		vc = wsws.Rate / pyws.Rate
	}
	add("vs fastapi-ws-rpc server (same wsrpc client)", vs, 8, true, "x", nameE2E+" / "+nameWSPy, okS)
	add("vs fastapi-ws-rpc client (same wsrpc server)", vc, 15, true, "x", nameE2E+" / "+namePyWS, okC)

	for _, ms := range waitMs {
		v, ok = ratio("9", nameServerSide, waitShape(ms), false)
		add(fmt.Sprintf("handlers waiting %d ms @%d in flight: calls/s vs goroutine-per-request server", ms, waitInflight), v, 0.90, true, "x", nameServerSide, ok)
	}
	for _, r := range rep.Rows {
		if r.Section == "10" && r.Name == nameServerSide {
			add(fmt.Sprintf("%d connections x 1 in flight: calls/s vs raw echo (informational)", r.Conns), r.RatioRate, 0.80, true, "x", nameServerSide, r.Err == "" && r.RatioRate > 0)
			add(fmt.Sprintf("%d connections x 1 in flight: p50 vs raw echo (informational)", r.Conns), r.RatioP50, 1.25, false, "x", nameServerSide, r.Err == "" && r.RatioP50 > 0)
		}
	}
	v, ok = ratio("11", nameE2E, "256", false)
	add("wss:// @256 in flight: calls/s vs raw TLS echo", v, 0.80, true, "x", nameE2E, ok)
	v, ok = ratio("11", nameE2E, "1", true)
	add("wss:// p50 latency @1 in flight vs raw TLS echo", v, 1.25, false, "x", nameE2E, ok)
	for _, z := range largeSizes {
		v, ok = ratio("12", nameServerSide, largeShape(z), false)
		add(fmt.Sprintf("large messages %s, server side: MB/s vs raw echo", z.label), v, 0.80, true, "x", nameServerSide, ok)
		v, ok = ratio("12", nameClientToResponder, largeShape(z), false)
		add(fmt.Sprintf("large messages %s, client side: MB/s vs raw generator", z.label), v, 0.80, true, "x", nameClientToResponder, ok)
		v, ok = ratio("12", nameClientRawParams, largeShape(z), false)
		add(fmt.Sprintf("large messages %s, client side, params validated by the client (informational)", z.label), v, 0.80, true, "x", nameClientRawParams, ok)
	}
	v, ok = ratio("13", nameBatch, spec{1, batchSize}.String(), false)
	add(fmt.Sprintf("batch of %d: calls/s vs %d single calls in flight (informational)", batchSize, batchSize), v, 1, true, "x", nameBatch, ok)
	v, ok = ratio("14", nameOtelSampled, spec{1, otelInflight}.String(), false)
	add(fmt.Sprintf("wsrpcotel @%d in flight (client + server, metrics + spans, 1%% sampled): calls/s vs without (cost <= 15%%)", otelInflight), v, 0.85, true, "x", nameOtelSampled, ok)
	v, ok = ratio("14", nameOtelMetric, spec{1, otelInflight}.String(), false)
	add(fmt.Sprintf("wsrpcotel @%d in flight (client + server, metrics only): calls/s vs without (cost <= 15%%)", otelInflight), v, 0.85, true, "x", nameOtelMetric, ok)
	v, ok = floorRatio(rep)
	add(fmt.Sprintf("wsrpcotel @%d in flight: the best ratio the OpenTelemetry SDK's own calls allow at 1%% sampled (informational)", otelInflight), v, 0.85, true, "x", nameOtelFloor, ok)
	v, ok = ratio("14", nameOtelFull, spec{1, otelInflight}.String(), false)
	add(fmt.Sprintf("wsrpcotel @%d in flight (client + server, every span sampled and recorded): calls/s vs without (informational)", otelInflight), v, 0.85, true, "x", nameOtelFull, ok)
	x := rep.LargeRSS
	okR := x != nil && x.Err == ""
	var g float64
	if okR {
		g = x.GrowthRatio
	}
	add(fmt.Sprintf("wsrpc server peak RSS growth / bytes in flight (%d x %d MiB)", rssInflight, rssBytes>>20), g, 3, false, "x", "VmHWM - VmRSS before", okR)
}

func (rep *report) write(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func fmtRate(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

func fmtUs(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 10000:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(v, 'f', 0, 64) + "µs"
	}
}

func fmtX(v float64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "x"
}

func (rep *report) print(w io.Writer) {
	m := rep.Meta
	fmt.Fprintf(w, "wsrpc benchmark — loopback, %s %s/%s, %d CPUs (GOMAXPROCS %d), %.1fs warm-up + %.1fs window per measurement%s\n",
		m.GoVersion, m.GOOS, m.GOARCH, m.NumCPU, m.GOMAXPROCS, m.WarmS, m.WindowS, map[bool]string{true: " [SMOKE: numbers meaningless]"}[m.Smoke])
	for _, sec := range []string{"1", "2", "3"} {
		rep.printRows(w, sec)
	}
	if a := rep.Allocs; a != nil {
		fmt.Fprintf(w, "\n4. allocations per call (testing.B -benchmem, %s; medians)\n", a.Source)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "benchmark\tallocs/op\tB/op\tns/op\truns\t")
		for _, r := range a.Rows {
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%d\t\n", r.Name, r.AllocsPerOp, r.BytesPerOp, r.NsPerOp, r.Runs)
		}
		tw.Flush()
		if a.Err != "" {
			fmt.Fprintf(w, "  %s\n", a.Err)
		}
		for _, inflight := range []string{"1", "256"} {
			base := a.get("RoundTrip/raw-echo/inflight=" + inflight)
			if base == nil {
				continue
			}
			var parts []string
			for _, v := range []struct{ name, what string }{{"wsrpc", "client+server"}, {"wsrpc-client", "client"}, {"wsrpc-server", "server"}} {
				if r := a.get("RoundTrip/" + v.name + "/inflight=" + inflight); r != nil {
					parts = append(parts, fmt.Sprintf("%s %+.0f allocs %+.0f B", v.what, r.AllocsPerOp-base.AllocsPerOp, r.BytesPerOp-base.BytesPerOp))
				}
			}
			fmt.Fprintf(w, "  beyond raw echo @%s in flight: %s\n", inflight, strings.Join(parts, "; "))
		}
	}
	if i := rep.Idle; i != nil {
		fmt.Fprintf(w, "\n5. idle connections on a wsrpc server (default config, own process)\n")
		if i.Err != "" {
			fmt.Fprintf(w, "  ERROR: %s\n", i.Err)
		} else {
			fmt.Fprintf(w, "  %d connections: RSS +%d KiB = %.1f KiB/conn (Go heap %.1f KiB/conn, stacks %.1f KiB/conn); goroutines +%d = %.2f/conn\n",
				i.Conns, i.RSSDeltaKiB, i.KiBPerConn, i.HeapPerConn/1024, i.StackPerConn/1024, i.GoroutinesDelta, i.GoroutinesPer)
		}
	}
	rep.printRows(w, "6")
	if x := rep.Wasm; x != nil {
		fmt.Fprintf(w, "\n7. wasm size\n")
		if x.Err != "" {
			fmt.Fprintf(w, "  ERROR: %s\n", x.Err)
		} else {
			fmt.Fprintf(w, "  %s: %d bytes raw (%.2f MiB), %d bytes gzip -9 (%.2f MiB)\n", x.Path, x.Raw, float64(x.Raw)/(1<<20), x.Gzip, float64(x.Gzip)/(1<<20))
		}
	}
	rep.printRows(w, "8")
	for _, sec := range []string{"9", "10", "11", "12", "13", "14"} {
		rep.printRows(w, sec)
	}
	if x := rep.LargeRSS; x != nil {
		fmt.Fprintf(w, "\n12, continued: peak RSS of a wsrpc server process (own process, raw generator, %d x %d MiB echo in flight on one connection)\n", x.InFlight, x.Bytes>>20)
		if x.Err != "" {
			fmt.Fprintf(w, "  ERROR: %s\n", x.Err)
		} else {
			fmt.Fprintf(w, "  RSS %d KiB before, peak %d KiB: growth %.2fx the bytes in flight (%d calls); raw echo process under the same load: peak growth %d KiB\n",
				x.BaseRSSKiB, x.PeakRSSKiB, x.GrowthRatio, x.Calls, x.RawPeakGrowthKiB)
		}
	}
	fmt.Fprintf(w, "\ntargets (printed, not asserted)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range rep.Targets {
		op := "<="
		if t.AtLeast {
			op = ">="
		}
		val := "-"
		if t.Verdict != "N/A" {
			val = strconv.FormatFloat(t.Value, 'f', 2, 64) + " " + t.Unit
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s %g %s\t%s\t(%s)\n", t.Verdict, t.Name, op, t.Limit, t.Unit, val, t.Measured)
	}
	tw.Flush()
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func (rep *report) printRows(w io.Writer, section string) {
	var rows []*row
	for _, r := range rep.Rows {
		if r.Section == section {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s. %s\n", section, sectionTitles[section])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	unit := rows[0].Unit
	maxCol, maxHead := "", ""
	if sectionMax[section] {
		maxHead = "max\t"
	}
	fmt.Fprintf(tw, "  shape\tvariant\t%s\tratio\tp50\tratio\tp99\tratio\t%s\n", unit, maxHead)
	for _, r := range rows {
		name := r.Name
		if r.Note != "" {
			name += " (" + r.Note + ")"
		}
		if r.Err != "" {
			fmt.Fprintf(tw, "  %s\t%s\tERROR: %s\t\t\t\t\t\t\n", r.Shape, name, tail(r.Err, 120))
			continue
		}
		if maxHead != "" {
			maxCol = fmtUs(r.MaxUs) + "\t"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Shape, name, fmtRate(r.Rate), fmtX(r.RatioRate),
			fmtUs(r.P50us), fmtX(r.RatioP50), fmtUs(r.P99us), fmtX(r.RatioP99), maxCol)
	}
	tw.Flush()
}

// benchLine matches `BenchmarkX/y-2   N   123 ns/op ... 45 B/op   6 allocs/op`.
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func readAllocs(path string) *allocs {
	a := &allocs{Source: path}
	if path == "" {
		a.Err = "no -gobench file given"
		return a
	}
	f, err := os.Open(path)
	if err != nil {
		a.Err = err.Error()
		return a
	}
	defer f.Close()
	type acc struct{ allocs, bytes, ns []float64 }
	byName := map[string]*acc{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		x := byName[m[1]]
		if x == nil {
			x = &acc{}
			byName[m[1]] = x
			order = append(order, m[1])
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "allocs/op":
				x.allocs = append(x.allocs, v)
			case "B/op":
				x.bytes = append(x.bytes, v)
			case "ns/op":
				x.ns = append(x.ns, v)
			}
		}
	}
	for _, name := range order {
		x := byName[name]
		a.Rows = append(a.Rows, allocRow{Name: name, AllocsPerOp: median(x.allocs), BytesPerOp: median(x.bytes), NsPerOp: median(x.ns), Runs: len(x.ns)})
	}
	if len(a.Rows) == 0 {
		a.Err = "no benchmark lines in " + path
	}
	return a
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// floorRatio is f/(f+b) of section 14: f the floor row's operations a second, b the
// baseline's calls a second (see sdkFloor).
func floorRatio(rep *report) (float64, bool) {
	var f, b float64
	for _, r := range rep.Rows {
		if r.Section != "14" || r.Err != "" {
			continue
		}
		switch r.Name {
		case nameOtelFloor:
			f = r.Rate
		case nameOtelPlain:
			b = r.Rate
		}
	}
	if f <= 0 || b <= 0 {
		return 0, false
	}
	return f / (f + b), true
}

package main

import (
	"compress/gzip"
	"fmt"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// spec is a load shape: conns connections with perConn calls in flight on each.
type spec struct{ conns, perConn int }

func (s spec) inflight() int { return s.conns * s.perConn }

func (s spec) String() string {
	if s.conns == 1 {
		return strconv.Itoa(s.perConn)
	}
	return fmt.Sprintf("%dx%d", s.conns, s.perConn)
}

var shapes = []spec{{1, 1}, {1, 16}, {1, 256}, {1, 1024}, {64, 4}}

// has reports whether -sections selects section.
func (o options) has(section string) bool {
	return o.sections == "all" || slices.Contains(strings.Split(o.sections, ","), section)
}

// wants reports whether -shapes selects s (all shapes when empty).
func (o options) wants(s spec) bool {
	return o.shapes == "" || slices.Contains(strings.Split(o.shapes, ","), s.String())
}

func run(o options) *report {
	rep := &report{Meta: header(o)}
	var echo, responder *httpServer
	var ws *wsServer
	must := func(err error) bool {
		if err != nil {
			rep.Notes = append(rep.Notes, "setup: "+err.Error())
			rep.failedToRun++
			return false
		}
		return true
	}
	var err error
	if echo, err = serveWS(rawEcho); !must(err) {
		return rep
	}
	defer echo.Close()
	if responder, err = serveWS(rawResponder); !must(err) {
		return rep
	}
	defer responder.Close()
	if ws, err = newWSServer(loadLimits); !must(err) {
		return rep
	}
	defer ws.Close()

	raw := map[spec]*row{}
	e2e := map[int]*row{} // wsrpc client -> wsrpc server on one connection, by in flight
	measureWS := func(section, name string, url string, s spec) *row {
		c, err := newWSClients(url, s.conns, s.perConn)
		if err != nil {
			return rep.add(row{Section: section, Name: name, Shape: s.String(), Conns: s.conns, InFlight: s.inflight(), result: result{Err: err.Error()}})
		}
		defer c.close()
		return rep.add(row{Section: section, Name: name, Shape: s.String(), Conns: s.conns, InFlight: s.inflight(), result: timed(o.t, c.start)})
	}

	// 1. concat round trips against the raw echo, the variants measured in turn (3 rounds).
	// (Sections 2 and 8 use some of these rows as their baselines.)
	jsonrpc2Row := map[spec]*row{}
	if o.has("1") || o.has("2") || o.has("8") {
		var j2 *httpServer
		if o.has("8") {
			if j2, err = newJSONRPC2Server(); !must(err) {
				j2 = nil
			} else {
				defer j2.Close()
			}
		}
		for _, s := range shapes {
			needed := o.has("1") || s == spec{1, 256} || (o.has("2") && s.conns == 1 && s.perConn <= 256)
			if !needed || !o.wants(s) {
				continue
			}
			type variant struct {
				section, name string
				open          func() (load, func(), error)
			}
			rawGen := func(url string) func() (load, func(), error) {
				return func() (load, func(), error) {
					g, err := newRawGen(url, s.conns, s.perConn)
					if err != nil {
						return nil, nil, err
					}
					return g.start, g.close, nil
				}
			}
			wsClient := func(url string) func() (load, func(), error) {
				return func() (load, func(), error) {
					c, err := newWSClients(url, s.conns, s.perConn)
					if err != nil {
						return nil, nil, err
					}
					return c.start, c.close, nil
				}
			}
			vs := []variant{{"1", nameRawEcho, rawGen(echo.URL)}, {"1", nameE2E, wsClient(ws.URL)}}
			if o.has("1") {
				vs = append(vs, variant{"1", nameClientSide, wsClient(responder.URL)}, variant{"1", nameServerSide, rawGen(ws.URL)})
				if s == (spec{1, 1}) {
					vs = append(vs, variant{"1", nameE2ESpin, func() (load, func(), error) {
						c, err := newWSClients(ws.URL, s.conns, s.perConn, func(c *wsrpc.Config) { c.SpinWait = spinWait })
						if err != nil {
							return nil, nil, err
						}
						return c.start, c.close, nil
					}}, variant{"1", nameE2EDead, func() (load, func(), error) {
						c, err := newWSClients(ws.URL, s.conns, s.perConn)
						if err != nil {
							return nil, nil, err
						}
						c.deadline = callDeadline
						return c.start, c.close, nil
					}})
				}
			}
			if j2 != nil && s == (spec{1, 256}) {
				vs = append(vs, variant{"8", nameJSONRPC2, func() (load, func(), error) {
					c, err := newJSONRPC2Clients(j2.URL, s.conns, s.perConn)
					if err != nil {
						return nil, nil, err
					}
					return c.start, c.close, nil
				}})
			}
			loads := make([]load, len(vs))
			errs := make([]error, len(vs))
			var closers []func()
			for i, v := range vs {
				ld, closeFn, err := v.open()
				if err != nil {
					errs[i] = err
					continue
				}
				closers = append(closers, closeFn)
				loads[i] = ld
			}
			t, rounds := o.t, 3
			if s.inflight() == 1 {
				// Latency at 1 in flight swings most from run to run on a shared machine:
				// twice the window, in more and shorter turns.
				t.dur, rounds = 2*t.dur, 6
			}
			res := interleaved(t, rounds, loads)
			for _, c := range closers {
				c()
			}
			var base *row
			for i, v := range vs {
				if errs[i] != nil {
					res[i] = result{Err: errs[i].Error()}
				}
				r := rep.add(row{Section: v.section, Name: v.name, Shape: s.String(), Conns: s.conns, InFlight: s.inflight(), result: res[i]})
				switch v.name {
				case nameRawEcho:
					base = r
					raw[s] = r
				case nameE2E:
					if s.conns == 1 {
						e2e[s.perConn] = r
					}
					fallthrough
				default:
					r.ratioTo(base)
				}
				if v.name == nameJSONRPC2 {
					jsonrpc2Row[s] = r
				}
			}
		}
	}

	// 1, continued: 1 in flight with each server in a process of its own, as deployed (in
	// one process, client and server share the Go scheduler, which changes latencies).
	if o.has("1") && o.wants(spec{1, 1}) {
		ownProcess(rep, o)
	}

	// 2. The C and Python bindings against the Go client.
	if o.has("2") {
		py := o.python
		script := filepath.Join(o.pyDir, "binding_load.py")
		for _, c := range []struct {
			name, prog, mode string
			n                int
			args             []string
		}{
			{nameCSync, o.cload, "sync", 1, nil},
			{"C wsrpc_client_call, 16 threads", o.cload, "sync", 16, nil},
			{"C wsrpc_client_call_async", o.cload, "async", 256, nil},
			{namePySync, py, "sync", 1, []string{script}},
			{"Python Client.call, 16 threads", py, "sync", 16, []string{script}},
			{namePyAsync, py, "asyncio", 256, []string{script}},
		} {
			args := append(c.args, ws.URL, c.mode, strconv.Itoa(c.n), secs(o.t.warm), secs(o.t.dur))
			r := rep.add(row{Section: "2", Name: c.name, Shape: strconv.Itoa(c.n), Conns: 1, InFlight: c.n,
				result: runExternalRounds(o.t, o.rounds(3), c.prog, args...)})
			if b := e2e[c.n]; b != nil {
				r.ratioTo(b)
			}
		}
	}

	// 3. The Python library fastapi-ws-rpc 1.2.0.
	if o.has("3") {
		n := o.pyInflight
		s := spec{1, n}
		// Measured again right before the Python rows, so the ratios compare neighbours.
		base := measureWS("3", nameE2E, ws.URL, s)
		client := filepath.Join(o.pyDir, "fastapi_client.py")
		pyArgs := func(url string) []string {
			return []string{client, url, "asyncio", strconv.Itoa(n), secs(o.t.warm), secs(o.t.dur)}
		}
		ps, err := startPyServer(o.python, filepath.Join(o.pyDir, "fastapi_server.py"))
		if err != nil {
			for _, name := range []string{namePyPy, namePyWS, nameWSPy} {
				rep.add(row{Section: "3", Name: name, Shape: s.String(), Conns: 1, InFlight: n, result: result{Err: err.Error()}})
			}
		} else {
			rep.add(row{Section: "3", Name: namePyPy, Shape: s.String(), Conns: 1, InFlight: n, result: runExternal(o.t, o.python, pyArgs(ps.URL)...)}).ratioTo(base)
			rep.add(row{Section: "3", Name: namePyWS, Shape: s.String(), Conns: 1, InFlight: n, result: runExternal(o.t, o.python, pyArgs(ws.URL)...)}).ratioTo(base)
			measureWS("3", nameWSPy, ps.URL, s).ratioTo(base)
			ps.Close()
		}
	}

	// 4. Allocations, from the Go benchmarks.
	if o.has("4") {
		rep.Allocs = readAllocs(o.goBench)
	}

	// 5. Idle connections.
	if o.has("5") {
		idle := measureIdle(o.idleConns)
		rep.Idle = &idle
		if idle.Err != "" {
			rep.failedToRun++
		}
	}

	// 6. Notifications one way.
	if o.has("6") {
		const senders = 16
		s := spec{1, senders}
		rawCount := new(sinkCounter)
		sink, err := serveWS(rawSink(rawCount))
		if must(err) {
			base := measureNotify(rep, o, "raw websocket -> raw reader", s, rawCount, func() (notifier, error) { return newRawNotifier(sink.URL) })
			measureNotify(rep, o, "wsrpc client -> wsrpc server", s, &ws.sink, func() (notifier, error) { return newWSClients(ws.URL, 1, senders) }).ratioTo(base)
			measureNotify(rep, o, "raw websocket -> wsrpc server", s, &ws.sink, func() (notifier, error) { return newRawNotifier(ws.URL) }).ratioTo(base)
			sink.Close()
		}
	}

	// 7. wasm size.
	if o.has("7") {
		rep.Wasm = wasmSize(o.wasm)
	}

	// 8. sourcegraph/jsonrpc2 at 256 in flight (measured with section 1's 256 row).
	if o.has("8") {
		s := spec{1, 256}
		if e := e2e[256]; e != nil && jsonrpc2Row[s] != nil {
			rep.add(row{Section: "8", Name: nameE2E, Shape: s.String(), Conns: 1, InFlight: 256, result: e.result, Note: "from section 1"}).ratioTo(raw[s])
		}
	}

	// 9. Handlers that wait, against a goroutine-per-request server.
	if o.has("9") {
		waitingHandlers(rep, o, ws)
	}

	// 10. Many connections, one call in flight on each.
	if o.has("10") {
		manyConnections(rep, o, echo.URL, ws.URL)
	}

	// 11. wss://.
	if o.has("11") {
		wssSection(rep, o)
	}

	// 12. Large messages.
	if o.has("12") {
		largeMessages(rep, o, echo.URL, ws.URL)
	}

	// 13. A batch of 100 calls against 100 single calls in flight.
	if o.has("13") {
		batchSection(rep, o, ws)
	}

	// 14. The cost of pkg/wsrpcotel per call.
	if o.has("14") {
		otelSection(rep, o)
	}
	rep.evaluate()
	return rep
}

func wasmSize(path string) *wasmResult {
	w := &wasmResult{Path: path}
	f, err := os.Open(path)
	if err != nil {
		w.Err = err.Error()
		return w
	}
	defer f.Close()
	var cnt countWriter
	zw, _ := gzip.NewWriterLevel(&cnt, gzip.BestCompression)
	n, err := io.Copy(zw, f)
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		w.Err = err.Error()
		return w
	}
	w.Raw, w.Gzip = n, cnt.n
	return w
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// notifier sends notifications of concat's params from senders goroutines per connection.
type notifier interface {
	notify(g *gate, senders int) func() (int64, []time.Duration, error)
	close()
}

// measureNotify reports the notifications the receiver got during the window.
func measureNotify(rep *report, o options, name string, s spec, sink *sinkCounter, mk func() (notifier, error)) *row {
	r := row{Section: "6", Name: name, Shape: s.String(), Conns: s.conns, InFlight: s.inflight(), Unit: "notifications/s"}
	n, err := mk()
	if err != nil {
		r.Err = err.Error()
		return rep.add(r)
	}
	defer n.close()
	res := timed(o.t, func(g *gate) func() (int64, []time.Duration, error) {
		sink.arm(g)
		return n.notify(g, s.perConn)
	})
	got := sink.count.Load()
	res.Calls, res.P50us, res.P99us = got, 0, 0
	if res.Seconds > 0 {
		res.Rate = float64(got) / res.Seconds
	}
	r.result = res
	return rep.add(r)
}

const (
	spinWait     = 100 * time.Microsecond // the opt-in Config.SpinWait measured in its own rows
	callDeadline = 5 * time.Second        // per call, in the rows that set one
)

// ownProcess measures 1 call in flight against servers running in child processes: the
// raw echo (baseline), the raw responder and the wsrpc server.
func ownProcess(rep *report, o options) {
	children := map[string]*child{}
	for _, kind := range []string{"echo", "responder", "wsrpc"} {
		ch, err := startChild(kind)
		if err != nil {
			rep.Notes = append(rep.Notes, "own-process servers: "+err.Error())
			rep.failedToRun++
			for _, c := range children {
				c.kill()
			}
			return
		}
		children[kind] = ch
	}
	defer func() {
		for _, c := range children {
			_ = c.stop()
		}
	}()
	type variant struct {
		name, url string
		ws        bool
		opts      []wsrpc.Option
		deadline  time.Duration
	}
	spin := func(c *wsrpc.Config) { c.SpinWait = spinWait }
	vs := []variant{
		{nameRawEcho, children["echo"].URL, false, nil, 0},
		{nameE2E, children["wsrpc"].URL, true, nil, 0},
		{nameClientSide, children["responder"].URL, true, nil, 0},
		{nameServerSide, children["wsrpc"].URL, false, nil, 0},
		{nameE2ESpin, children["wsrpc"].URL, true, []wsrpc.Option{spin}, 0},
		{nameE2EDead, children["wsrpc"].URL, true, nil, callDeadline},
	}
	loads := make([]load, len(vs))
	errs := make([]error, len(vs))
	for i, v := range vs {
		if v.ws {
			c, err := newWSClients(v.url, 1, 1, v.opts...)
			if errs[i] = err; err == nil {
				c.deadline = v.deadline
				loads[i] = c.start
				defer c.close()
			}
		} else {
			g, err := newRawGen(v.url, 1, 1)
			if errs[i] = err; err == nil {
				loads[i] = g.start
				defer g.close()
			}
		}
	}
	t := o.t
	t.dur *= 2 // as for 1 in flight in one process
	res := interleaved(t, 6, loads)
	var base *row
	for i, v := range vs {
		if errs[i] != nil {
			res[i] = result{Err: errs[i].Error()}
		}
		r := rep.add(row{Section: "1", Name: v.name, Shape: shapeOwnProc, Conns: 1, InFlight: 1, result: res[i]})
		if i == 0 {
			base = r
		} else {
			r.ratioTo(base)
		}
	}
}

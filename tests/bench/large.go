package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/coder/websocket"
	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Section 12: large messages. echo returns its params as they came (json.RawMessage):
//
//   - server side: the raw generator -> wsrpc server, against the raw generator -> raw echo
//     of the same bytes;
//   - client side: the wsrpc client -> raw echo responder (answers each request's params as
//     the result of the same id), against the raw generator -> the same responder;
//   - peak RSS of a wsrpc server process with 8 x 4 MiB in flight;
//   - the C and Python bindings at 1 MiB against the Go client (wsrpc server).
//
// MB/s counts the payload (the params) echoed per second, 10^6 bytes a MB.

type largeSize struct {
	bytes, inflight int
	label           string
}

var largeSizes = []largeSize{{64 << 10, 4, "64 KiB"}, {1 << 20, 4, "1 MiB"}, {4 << 20, 2, "4 MiB"}}

func largeShape(z largeSize) string { return fmt.Sprintf("%s, %d", z.label, z.inflight) }

const (
	rssInflight = 8
	rssBytes    = 4 << 20
	bindBytes   = 1 << 20 // the C and Python rows
	bindInfl    = 4
)

// jsonPayload is size bytes of JSON: an array of small records, closed by a string that
// makes up the size.
func jsonPayload(size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, '[')
	for i := 0; ; i++ {
		rec := fmt.Sprintf(`{"n":%d,"name":"item-%06d","tags":["alpha","beta"],"score":%d.%02d,"ok":true},`, i, i, i%1000, i%100)
		if len(b)+len(rec)+8 > size {
			break
		}
		b = append(b, rec...)
	}
	b = append(b, '"')
	b = append(b, bytes.Repeat([]byte("x"), size-len(b)-2)...)
	return append(b, '"', ']')
}

// stringPayload is `["xxx...x"]`, size bytes: what the C and Python load programs send.
func stringPayload(size int) []byte {
	return append(append([]byte(`["`), bytes.Repeat([]byte("x"), size-4)...), '"', ']')
}

// echoWork calls echo(payload); an answer (the result, or the echo) is at least as long.
func echoWork(payload []byte) workload {
	n := len(payload)
	return workload{`","method":"echo","params":` + string(payload) + `}`, func(p []byte) bool { return len(p) >= n }}
}

// echoCall calls echo(payload) with the wsrpc client (params as a json.RawMessage, which
// the client validates before sending) and checks the result's length.
func echoCall(payload []byte) func(ctx context.Context, c *wsrpc.Client) error {
	return echoCallWith(json.RawMessage(payload), len(payload))
}

// echoCallValid is echoCall with params the caller vouches for (wsrpc.ValidJSON: the
// client sends them without validating them again).
func echoCallValid(payload []byte) func(ctx context.Context, c *wsrpc.Client) error {
	return echoCallWith(wsrpc.ValidJSON(payload), len(payload))
}

func echoCallWith(params any, n int) func(ctx context.Context, c *wsrpc.Client) error {
	return func(ctx context.Context, c *wsrpc.Client) error {
		var out json.RawMessage
		if err := c.Call(ctx, "echo", params, &out); err != nil {
			return err
		}
		if len(out) != n {
			return fmt.Errorf("echo answered %d bytes, sent %d", len(out), n)
		}
		return nil
	}
}

var paramsKey = []byte(`"params":`)

// rawEchoResponder answers each request with its params as the result of the same id (a
// request without params, such as the client's readiness ping, with null).
func rawEchoResponder(c *websocket.Conn) {
	ctx := context.Background()
	var out []byte
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		id := findID(p)
		if id == nil {
			continue // a notification
		}
		out = append(out[:0], `{"jsonrpc":"2.0","id":"`...)
		out = append(out, id...)
		out = append(out, `","result":`...)
		i := bytes.Index(p, paramsKey)
		j := bytes.LastIndexByte(p, '}')
		if i >= 0 && j > i {
			out = append(out, p[i+len(paramsKey):j]...)
		} else {
			out = append(out, "null"...)
		}
		out = append(out, '}')
		if c.Write(ctx, typ, out) != nil {
			return
		}
	}
}

func largeMessages(rep *report, o options, echoURL, wsURL string) {
	fail := func(err error) {
		rep.Notes = append(rep.Notes, "section 12: "+err.Error())
		rep.failedToRun++
	}
	resp, err := serveWS(rawEchoResponder)
	if err != nil {
		fail(err)
		return
	}
	defer resp.Close()
	for _, z := range largeSizes {
		payload := jsonPayload(z.bytes)
		w := echoWork(payload)
		mb := float64(len(payload)) / 1e6
		measureTurns(rep, o.t, 3, row{Section: "12", Shape: largeShape(z), Conns: 1, InFlight: z.inflight, Unit: "MB/s"}, mb, []turn{
			{nameRawEcho, rawGenTurn(echoURL, 1, z.inflight, w, nil), 0},
			{nameServerSide, rawGenTurn(wsURL, 1, z.inflight, w, nil), 0},
			{nameRawToResponder, rawGenTurn(resp.URL, 1, z.inflight, w, nil), 2},
			{nameClientToResponder, wsTurn(resp.URL, 1, z.inflight, echoCallValid(payload)), 2},
			{nameClientRawParams, wsTurn(resp.URL, 1, z.inflight, echoCall(payload)), 2},
		})
	}
	rep.LargeRSS = largeRSS(o)
	if rep.LargeRSS.Err != "" {
		rep.failedToRun++
	}

	// The bindings at 1 MiB, after the Go client measured right before them.
	payload := stringPayload(bindBytes)
	mb := float64(len(payload)) / 1e6
	shape := fmt.Sprintf("1 MiB, %d", bindInfl)
	base := measureTurns(rep, o.t, 1, row{Section: "12", Shape: shape, Conns: 1, InFlight: bindInfl, Unit: "MB/s"}, mb, []turn{
		{nameE2EString, wsTurn(wsURL, 1, bindInfl, echoCall(payload)), 0},
	})[0]
	script := filepath.Join(o.pyDir, "binding_load.py")
	for _, c := range []struct {
		name, prog, mode string
		args             []string
	}{
		{nameCEcho, o.cload, "async", nil},
		{namePyEcho, o.python, "asyncio", []string{script}},
	} {
		args := append(c.args, wsURL, c.mode, strconv.Itoa(bindInfl), secs(o.t.warm), secs(o.t.dur), strconv.Itoa(bindBytes))
		res := runExternal(o.t, c.prog, args...)
		res.Rate *= mb
		rep.add(row{Section: "12", Name: c.name, Shape: shape, Conns: 1, InFlight: bindInfl, Unit: "MB/s", result: res}).ratioTo(base)
	}
}

// rssResult is section 12's memory measurement: a server process's peak RSS growth while
// rssInflight messages of rssBytes are in flight (echo), over those bytes.
type rssResult struct {
	InFlight    int     `json:"inflight"`
	Bytes       int     `json:"message_bytes"`
	BaseRSSKiB  int64   `json:"base_rss_kib"`
	PeakRSSKiB  int64   `json:"peak_rss_kib"`
	GrowthRatio float64 `json:"growth_over_inflight_bytes"`
	// The same load against the raw echo in a process of its own (it handles one message
	// at a time per connection): for scale.
	RawPeakGrowthKiB int64  `json:"raw_echo_peak_growth_kib"`
	Calls            int64  `json:"calls"`
	Err              string `json:"error,omitempty"`
}

func largeRSS(o options) *rssResult {
	r := &rssResult{InFlight: rssInflight, Bytes: rssBytes}
	payload := jsonPayload(rssBytes)
	w := echoWork(payload)
	growth := func(kind string) (base, peak, calls int64, err error) {
		ch, err := startChild(kind)
		if err != nil {
			return 0, 0, 0, err
		}
		defer ch.kill()
		g, err := newRawGenWith(ch.URL, 1, rssInflight, w, nil)
		if err != nil {
			return 0, 0, 0, err
		}
		defer g.close()
		if err := waitConns(ch, 1); err != nil {
			return 0, 0, 0, err
		}
		before, err := ch.stats()
		if err != nil {
			return 0, 0, 0, err
		}
		res := timed(o.t, g.start)
		if res.Err != "" {
			return 0, 0, 0, fmt.Errorf("%s", res.Err)
		}
		after, err := ch.stats()
		if err != nil {
			return 0, 0, 0, err
		}
		return before.RSSKiB, after.PeakRSSKiB, res.Calls, nil
	}
	base, peak, calls, err := growth("wsrpc")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.BaseRSSKiB, r.PeakRSSKiB, r.Calls = base, peak, calls
	r.GrowthRatio = float64(peak-base) * 1024 / float64(rssInflight*rssBytes)
	if base, peak, _, err := growth("echo"); err == nil {
		r.RawPeakGrowthKiB = peak - base
	}
	return r
}

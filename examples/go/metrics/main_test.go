package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// scrape fetches /metrics and returns its samples: "name{labels}" -> value, labels in
// the exporter's order; and the TYPE of each metric family.
func scrape(t *testing.T, url string) (map[string]float64, map[string]string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	samples, types := map[string]float64{}, map[string]string{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[1] == "TYPE" {
			types[f[2]] = f[3]
		}
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		samples[line[:i]] = v
	}
	return samples, types
}

// sample finds the value of the sample of metric name whose labels include all of want.
func sample(samples map[string]float64, name string, want ...string) (float64, bool) {
	for k, v := range samples {
		if !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(k, w)
		}
		if ok {
			return v, true
		}
	}
	return 0, false
}

// TestMetricsEndpoint: calls made to the example show up on its /metrics in the
// Prometheus text format, with the counts made.
func TestMetricsEndpoint(t *testing.T) {
	svc, err := newService()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(svc.mux)
	defer hs.Close()
	defer svc.close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws",
		wsrpc.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3; i++ {
		var s string
		if err := c.Call(ctx, "concat", map[string]string{"a": "x", "b": strconv.Itoa(i)}, &s); err != nil || s != "x"+strconv.Itoa(i) {
			t.Fatal(s, err)
		}
	}
	var re *wsrpc.Error
	if err := c.Call(ctx, "fail", nil, nil); !errors.As(err, &re) || re.Code != 1 {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "missing", nil, nil); !errors.Is(err, wsrpc.ErrMethodNotFound) {
		t.Fatal(err)
	}

	// A server's counters move once its answer is sent: wait for the last one.
	var samples map[string]float64
	var types map[string]string
	deadline := time.Now().Add(10 * time.Second)
	for {
		samples, types = scrape(t, hs.URL+"/metrics")
		if v, _ := sample(samples, "wsrpc_messages_total", `network_io_direction="transmit"`); v == 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wsrpc_calls_total", []string{`rpc_method="concat"`, `wsrpc_side="server"`}, 3},
		{"wsrpc_calls_total", []string{`rpc_method="fail"`, `rpc_jsonrpc_error_code="1"`}, 1},
		{"wsrpc_errors_total", []string{`rpc_method="fail"`, `rpc_jsonrpc_error_code="1"`}, 1},
		{"wsrpc_errors_total", []string{`rpc_method="missing"`, `rpc_jsonrpc_error_code="-32601"`}, 1},
		{"wsrpc_duration_seconds_count", []string{`rpc_method="concat"`}, 3},
		{"wsrpc_in_flight", []string{`rpc_method="concat"`}, 0},
		{"wsrpc_connections", []string{`wsrpc_side="server"`}, 1},
		{"wsrpc_connections_opened_total", []string{`wsrpc_side="server"`}, 1},
		{"wsrpc_rejected_total", []string{`wsrpc_side="server"`}, 0},
		// The readiness ping and 5 calls, one message each way.
		{"wsrpc_messages_total", []string{`network_io_direction="receive"`}, 6},
		{"wsrpc_messages_total", []string{`network_io_direction="transmit"`}, 6},
	} {
		got, ok := sample(samples, c.name, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	cs := c.Stats()
	if got, _ := sample(samples, "wsrpc_bytes_total", `network_io_direction="receive"`); got != float64(cs.BytesOut) || got == 0 {
		t.Errorf("bytes received %v, the client sent %d", got, cs.BytesOut)
	}
	for name, want := range map[string]string{"wsrpc_calls_total": "counter", "wsrpc_duration_seconds": "histogram",
		"wsrpc_connections": "gauge", "wsrpc_bytes_total": "counter"} {
		if types[name] != want {
			t.Errorf("TYPE %s %q, want %q", name, types[name], want)
		}
	}
	if t.Failed() {
		for k, v := range samples {
			if strings.HasPrefix(k, "wsrpc_") {
				t.Log(k, v)
			}
		}
	}
}

package interop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// The wsrpc extensions (the spec's EXTENSIONS.md) against the real fastapi-ws-rpc server:
// what a Python peer sees must not change.

// TestGoBatchAgainstPythonServer: the Python server answers a batch with one -32600
// ("Expected dict"): every call of the batch ends with ErrBatchUnsupported, and with
// SplitUnsupported the entries go again one by one and are answered.
func TestGoBatchAgainstPythonServer(t *testing.T) {
	python(t)
	_, port := startPyServer(t, "server_ws_rpc.py")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, wsURL(port, "/ws"), quietLogs(), wsrpc.WithTimeout(15*time.Second))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()

	b := c.NewBatch()
	p1 := b.Call("concat", map[string]string{"a": "x", "b": "y"})
	b.Notify("note", map[string]string{"event": "in-batch"})
	p2 := b.Call("add", map[string]float64{"a": 1, "b": 2})
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*wsrpc.Pending{p1, p2} {
		if err := p.Wait(ctx, nil); !errors.Is(err, wsrpc.ErrBatchUnsupported) {
			t.Errorf("entry %s: %v, want ErrBatchUnsupported", p.ID(), err)
		}
	}

	b = c.NewBatch(wsrpc.SplitUnsupported())
	p1 = b.Call("concat", map[string]string{"a": "x", "b": "y"})
	b.Notify("note", map[string]string{"event": "split"})
	p2 = b.Call("add", map[string]float64{"a": 1, "b": 2})
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	var s string
	var f float64
	if err := p1.Wait(ctx, &s); err != nil || s != "xy" {
		t.Errorf("concat: %q %v", s, err)
	}
	if err := p2.Wait(ctx, &f); err != nil || f != 3 {
		t.Errorf("add: %v %v", f, err)
	}
	// Nothing of the refused batch ran; the notification sent alone did.
	var notes []map[string]any
	if err := c.Call(ctx, "get_notes", nil, &notes); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0]["event"] != "split" {
		t.Errorf("server notes %v, want the split notification only", notes)
	}
}

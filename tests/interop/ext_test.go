package interop

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
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

// teeProxy relays TCP connections to a server and records the bytes clients send, so a
// test can see every frame the server received.
type teeProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	mu     sync.Mutex
	sent   bytes.Buffer // from the (single) client, as sent
	conns  []net.Conn
	closed bool
}

func startTee(t *testing.T, target string) *teeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &teeProxy{ln: ln, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() {
				defer p.wg.Done()
				_, _ = io.Copy(s, io.TeeReader(c, p))
				_ = s.Close()
			}()
			go func() {
				defer p.wg.Done()
				_, _ = io.Copy(c, s)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *teeProxy) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.Write(b)
}

func (p *teeProxy) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	p.wg.Wait()
}

// messages decodes the WebSocket data messages the client sent (after its upgrade
// request): unmasked payloads, continuation frames joined.
func (p *teeProxy) messages(t *testing.T) []string {
	p.mu.Lock()
	data := append([]byte(nil), p.sent.Bytes()...)
	p.mu.Unlock()
	i := bytes.Index(data, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatal("no upgrade request recorded")
	}
	data = data[i+4:]
	var out []string
	var cur []byte
	for len(data) >= 2 {
		fin, op := data[0]&0x80 != 0, data[0]&0x0f
		masked, n, h := data[1]&0x80 != 0, uint64(data[1]&0x7f), 2
		switch n {
		case 126:
			n, h = uint64(binary.BigEndian.Uint16(data[2:])), 4
		case 127:
			n, h = binary.BigEndian.Uint64(data[2:]), 10
		}
		var key []byte
		if masked {
			key, h = data[h:h+4], h+4
		}
		if uint64(len(data)) < uint64(h)+n {
			break // the rest was cut by the close
		}
		payload := append([]byte(nil), data[h:uint64(h)+n]...)
		for j := range payload {
			if masked {
				payload[j] ^= key[j%4]
			}
		}
		data = data[uint64(h)+n:]
		if op == 0 || op == 1 || op == 2 {
			cur = append(cur, payload...)
			if fin {
				out = append(out, string(cur))
				cur = nil
			}
		}
	}
	return out
}

// TestPythonServerNeverSeesCancel: the Go client offers the extension subprotocol; the
// Python server answers "jsonrpc2.0", and then a call whose caller gives up is not
// followed by "$/cancelRequest": the frames the server receives are exactly the calls.
func TestPythonServerNeverSeesCancel(t *testing.T) {
	python(t)
	_, port := startPyServer(t, "server_ws_rpc.py")
	tee := startTee(t, "127.0.0.1:"+strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := wsrpc.Dial(ctx, "ws://"+tee.ln.Addr().String()+"/ws", quietLogs(), wsrpc.WithTimeout(15*time.Second))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if sp := c.Channel().Subprotocol(); sp != "jsonrpc2.0" || c.Channel().Extended() {
		t.Errorf("negotiated %q with the Python server, want jsonrpc2.0", sp)
	}
	short, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer scancel()
	if err := c.Call(short, "slow", map[string]float64{"seconds": 0.5}, nil); !errors.Is(err, wsrpc.ErrTimeout) {
		t.Errorf("slow: %v, want ErrTimeout", err)
	}
	cctx, ccancel := context.WithCancel(ctx)
	p, err := c.Go(cctx, "slow", map[string]float64{"seconds": 0.2})
	if err != nil {
		t.Fatal(err)
	}
	ccancel()
	if err := p.Wait(cctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("slow: %v, want context.Canceled", err)
	}
	if err := c.Call(ctx, "ping", nil, nil); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	tee.close()

	var methods []string
	for _, m := range tee.messages(t) {
		var req struct {
			Method string `json:"method"`
		}
		if err := json.Unmarshal([]byte(m), &req); err != nil || m[0] != '{' {
			t.Errorf("the Python server received %q: not a single JSON object", m)
		}
		methods = append(methods, req.Method)
	}
	for len(methods) > 0 && methods[0] == "ping" { // the readiness check
		methods = methods[1:]
	}
	if got := strings.Join(methods, ","); got != "slow,slow,ping" {
		t.Errorf("the Python server received the methods %q, want slow,slow,ping", got)
	}
}

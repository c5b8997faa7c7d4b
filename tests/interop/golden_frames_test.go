package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// goldenFrame is one py/frames/*.json file (format: FINDINGS.md §1).
type goldenFrame struct {
	Name           string            `json:"name"`
	Server         string            `json:"server"`
	Subprotocol    *string           `json:"subprotocol"`
	Send           json.RawMessage   `json:"send"`
	SendRaw        json.RawMessage   `json:"send_raw"`
	Recv           []json.RawMessage `json:"recv"`
	RecvBeforeSend []json.RawMessage `json:"recv_before_send"`
	Closed         *int              `json:"closed"`
	HandshakeError string            `json:"handshake_error"`
	Transcript     []struct {
		Dir   string          `json:"dir"`
		Frame json.RawMessage `json:"frame"`
	} `json:"transcript"`
}

// nonFinite rewrites the bare NaN/Infinity tokens Python emits (outside strings) into
// marker strings so encoding/json can read the frame.
func nonFinite(b []byte) []byte {
	var out bytes.Buffer
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out.WriteByte(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			out.WriteString(`"<NaN>"`)
			i += 2
			continue
		case bytes.HasPrefix(b[i:], []byte("-Infinity")):
			out.WriteString(`"<-Infinity>"`)
			i += 8
			continue
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			out.WriteString(`"<Infinity>"`)
			i += 7
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

func loadFrames(t *testing.T) []goldenFrame {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(pyDir(t), "frames", "*.json"))
	if len(files) == 0 {
		t.Fatal("no golden frames found")
	}
	var out []goldenFrame
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g goldenFrame
		if err := json.Unmarshal(nonFinite(b), &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, g)
	}
	return out
}

// sendText rebuilds the exact message the capture sent (summaries and binary frames).
func (g *goldenFrame) sendText(t *testing.T) (websocket.MessageType, []byte, bool) {
	if len(g.SendRaw) == 0 || g.RecvBeforeSend != nil && string(g.Send) == "null" {
		return 0, nil, false // nothing was sent (handshake-only and unprompted-frame captures)
	}
	var s string
	if err := json.Unmarshal(g.SendRaw, &s); err == nil {
		return websocket.MessageText, []byte(strings.ReplaceAll(strings.ReplaceAll(s, `"<NaN>"`, "NaN"), `"<Infinity>"`, "Infinity")), true
	}
	var obj struct {
		Binary  *string `json:"binary_frame"`
		Summary bool    `json:"_summary"`
		Bytes   int     `json:"bytes"`
		Head    string  `json:"head"`
		Tail    string  `json:"tail"`
	}
	if err := json.Unmarshal(g.SendRaw, &obj); err != nil {
		t.Fatalf("%s: send_raw: %v", g.Name, err)
	}
	if obj.Binary != nil {
		return websocket.MessageBinary, []byte(*obj.Binary), true
	}
	if !obj.Summary || !strings.HasSuffix(obj.Head, "x") || !strings.HasPrefix(obj.Tail, "x") {
		t.Fatalf("%s: cannot rebuild summarised message", g.Name)
	}
	return websocket.MessageText, []byte(obj.Head + strings.Repeat("x", obj.Bytes-len(obj.Head)-len(obj.Tail)) + obj.Tail), true
}

// frameServers are Go servers configured like the Python server of each capture.
type frameServers struct {
	mu sync.Mutex
	t  *testing.T
	m  map[string]*goFixture
}

func (s *frameServers) get(server string) (*goFixture, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	offer := []string{wsrpc.DefaultSubprotocol}
	key := server
	if strings.HasPrefix(server, "legacy_server.py") {
		offer = nil
	}
	if f := s.m[key]; f != nil {
		return f, offer
	}
	opts := []wsrpc.Option{quietLogs()}
	var extra func(f *goFixture) []wsrpc.Option
	switch {
	case strings.HasPrefix(server, "legacy_server.py"):
		opts = append(opts, wsrpc.WithDialect(wsrpc.DialectLegacy), wsrpc.WithSubprotocols())
	case strings.Contains(server, "--debug"):
		opts = append(opts, wsrpc.WithDebug(true))
	case strings.Contains(server, "--sync-channel-id"):
		opts = append(opts, wsrpc.WithSyncChannelID(true))
	case strings.Contains(server, "--on-connect-call whoami"):
		extra = func(f *goFixture) []wsrpc.Option { return []wsrpc.Option{wsrpc.WithOnConnect(f.onConnectWhoami)} }
	case strings.Contains(server, "--subprotocols"):
		opts = append(opts, wsrpc.WithSubprotocols())
	}
	f := newGoFixture(s.t, extra, opts...)
	s.m[key] = f
	return f, offer
}

// frameResult is what the Go server did with one captured message.
type frameResult struct {
	subprotocol  string
	handshakeErr error
	before, recv []json.RawMessage
	closed       int // close code seen, 0 = still open
	alive        bool
}

const quietPeriod = 300 * time.Millisecond

// rawConn reads a websocket in the background: coder/websocket closes the connection
// when a Read's context expires, so quiet periods are measured on a channel instead.
type rawConn struct {
	c      *websocket.Conn
	frames chan json.RawMessage
	closed chan struct{}
	code   int // close code seen (1006 = no close frame); valid after closed
}

func dialRaw(ctx context.Context, url string, offer []string) (*rawConn, error) {
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: offer})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	r := &rawConn{c: c, frames: make(chan json.RawMessage, 64), closed: make(chan struct{})}
	go func() {
		defer close(r.closed)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				r.code = int(websocket.CloseStatus(err))
				if r.code == -1 {
					r.code = 1006
				}
				return
			}
			r.frames <- json.RawMessage(nonFinite(data))
		}
	}()
	return r, nil
}

func (r *rawConn) close() {
	_ = r.c.CloseNow()
	<-r.closed
}

func (r *rawConn) send(ctx context.Context, t *testing.T, typ websocket.MessageType, msg []byte) {
	t.Helper()
	if err := r.c.Write(ctx, typ, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// await waits until a frame matching pred arrives.
func (r *rawConn) await(timeout time.Duration, pred func(json.RawMessage) bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case f := <-r.frames:
			if pred(f) {
				return true
			}
		case <-r.closed:
			return false
		case <-timer.C:
			return false
		}
	}
}

// collect returns the frames received until quiet passes without one, and the close code
// if the connection ended (0 = still open).
func (r *rawConn) collect(quiet time.Duration) (frames []json.RawMessage, closed int) {
	for {
		timer := time.NewTimer(quiet)
		select {
		case f := <-r.frames:
			timer.Stop()
			frames = append(frames, f)
		case <-r.closed:
			timer.Stop()
			for {
				select {
				case f := <-r.frames:
					frames = append(frames, f)
				default:
					return frames, r.code
				}
			}
		case <-timer.C:
			return frames, 0
		}
	}
}

func replayFrame(t *testing.T, g *goldenFrame, f *goFixture, offer []string) frameResult {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res frameResult
	switch g.Name {
	case "subprotocol_offer_none":
		offer = nil
	case "subprotocol_offer_other_only":
		offer = []string{"other.v1"}
	case "subprotocol_offer_multi":
		offer = []string{"custom.v1", "jsonrpc2.0"}
	}
	c, err := dialRaw(ctx, f.url("/ws"), offer)
	if err != nil {
		res.handshakeErr = err
		return res
	}
	defer c.close()
	res.subprotocol = c.c.Subprotocol()
	if g.RecvBeforeSend != nil {
		res.before, res.closed = c.collect(quietPeriod)
	}
	typ, msg, ok := g.sendText(t)
	if ok && res.closed == 0 {
		c.send(ctx, t, typ, msg)
		quiet := quietPeriod
		if len(msg) > 1<<20 {
			quiet = 8 * time.Second
		}
		res.recv, res.closed = c.collect(quiet)
	}
	if res.closed == 0 {
		// Is the connection still served? (Python sessions die silently after some inputs.)
		ping := `{"jsonrpc":"2.0","id":"alive","method":"ping"}`
		if strings.HasPrefix(g.Server, "legacy") {
			ping = `{"request":{"method":"_ping_","arguments":{},"call_id":"alive"},"response":null}`
		}
		c.send(ctx, t, websocket.MessageText, []byte(ping))
		res.alive = c.await(5*time.Second, func(fr json.RawMessage) bool {
			return bytes.Contains(fr, []byte(`"alive"`)) && bytes.Contains(fr, []byte(`"pong"`))
		})
		_ = c.c.Close(websocket.StatusNormalClosure, "")
	}
	return res
}

// TestGoldenFrames replays every captured message against a Go server configured like the
// Python server it was captured from, and compares the answers by FINDINGS.md's rules.
func TestGoldenFrames(t *testing.T) {
	frames := loadFrames(t)
	servers := &frameServers{t: t, m: map[string]*goFixture{}}
	dump := os.Getenv("WSRPC_FRAMES_DUMP") != ""
	for i := range frames {
		g := &frames[i]
		if strings.HasPrefix(g.Name, "pubsub_") {
			continue // live pub/sub flows: pubsub_test.go
		}
		row := rowRPCFrames
		if strings.HasPrefix(g.Server, "legacy") {
			row = rowLegacyFrames
		}
		t.Run(g.Name, func(t *testing.T) {
			t.Parallel()
			recordCompat(t, row, 1)
			f, offer := servers.get(g.Server)
			if g.Name == "call_me_back_flow" {
				replayCallMeBack(t, g, f)
				return
			}
			res := replayFrame(t, g, f, offer)
			if dump {
				t.Logf("GO %s: sp=%q hs=%v before=%s recv=%s closed=%d alive=%v", g.Name, res.subprotocol, res.handshakeErr, joinRaw(res.before), joinRaw(res.recv), res.closed, res.alive)
			}
			if d, ok := divergences[g.Name]; ok {
				checkDivergence(t, g, d, res)
				return
			}
			checkAsCaptured(t, g, res)
		})
	}
}

func joinRaw(rs []json.RawMessage) string {
	var s []string
	for _, r := range rs {
		if len(r) > 300 {
			r = append(append(json.RawMessage{}, r[:300]...), "..."...)
		}
		s = append(s, string(r))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// checkAsCaptured asserts the Go server answered exactly as the Python server did.
func checkAsCaptured(t *testing.T, g *goldenFrame, res frameResult) {
	t.Helper()
	if g.HandshakeError != "" {
		t.Fatalf("frame expects a failed handshake (%s) but is not in the divergence table", g.HandshakeError)
	}
	if res.handshakeErr != nil {
		t.Fatalf("handshake failed: %v", res.handshakeErr)
	}
	want := ""
	if g.Subprotocol != nil {
		want = *g.Subprotocol
	}
	if res.subprotocol != want {
		t.Errorf("subprotocol %q, captured %q", res.subprotocol, want)
	}
	matchFrames(t, "recv_before_send", g.RecvBeforeSend, res.before)
	matchFrames(t, "recv", g.Recv, res.recv)
	wantClosed := 0
	if g.Closed != nil {
		wantClosed = *g.Closed
	}
	if res.closed != wantClosed {
		t.Errorf("closed with %d, captured %d", res.closed, wantClosed)
	}
	if wantClosed == 0 && !res.alive {
		t.Errorf("connection no longer answers a ping after this message")
	}
}

func matchFrames(t *testing.T, what string, want, got []json.RawMessage) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: got %d frames %s, captured %d %s", what, len(got), joinRaw(got), len(want), joinRaw(want))
		return
	}
	for i := range want {
		if msg := sameShape(want[i], got[i]); msg != "" {
			t.Errorf("%s[%d]: %s\n  go:       %s\n  captured: %s", what, i, msg, tail(string(got[i]), 400), tail(string(want[i]), 400))
		}
	}
}

func decodeNum(raw []byte) any {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return fmt.Sprintf("<invalid JSON %q>", raw)
	}
	return v
}

// sameShape compares a received frame with a captured one by FINDINGS.md's rules: generated
// 32-hex ids and channel ids by shape, process details by type, pydantic validation texts
// (-32600) by code and first line. It returns "" when they match.
func sameShape(want, got json.RawMessage) string {
	return compareValues("$", decodeNum(want), decodeNum(got))
}

func compareValues(path string, w, g any) string {
	switch wv := w.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %T, want object", path, g)
		}
		if code, _ := wv["code"].(json.Number); code == "-32600" {
			if m, _ := wv["message"].(string); strings.Contains(m, "validation error") {
				gm, _ := gv["message"].(string)
				wf, _, _ := strings.Cut(m, "\n")
				gf, _, _ := strings.Cut(gm, "\n")
				// The error count is pydantic's (a union type counts once per member).
				if gv["code"] != wv["code"] || validationHead.ReplaceAllString(wf, "N") != validationHead.ReplaceAllString(gf, "N") {
					return fmt.Sprintf("%s: validation error: got %v %q, want %v %q (first line)", path, gv["code"], gf, wv["code"], wf)
				}
				return ""
			}
		}
		if _, isPid := wv["pid"]; isPid && wv["workingdir"] != nil {
			if _, ok := gv["pid"].(json.Number); !ok {
				return path + ".pid: not a number"
			}
			if _, ok := gv["cmd"].([]any); !ok {
				return path + ".cmd: not a list"
			}
			if _, ok := gv["workingdir"].(string); !ok || len(gv) != 3 {
				return path + ": process details shape differs"
			}
			return ""
		}
		var keys []string
		for k := range wv {
			keys = append(keys, k)
		}
		for k := range gv {
			if _, ok := wv[k]; !ok {
				return fmt.Sprintf("%s: unexpected member %q", path, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			gvv, ok := gv[k]
			if !ok {
				return fmt.Sprintf("%s: missing member %q", path, k)
			}
			if msg := compareValues(path+"."+k, wv[k], gvv); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		gv, ok := g.([]any)
		if !ok || len(gv) != len(wv) {
			return fmt.Sprintf("%s: got %v, want %v", path, g, w)
		}
		for i := range wv {
			if msg := compareValues(fmt.Sprintf("%s[%d]", path, i), wv[i], gv[i]); msg != "" {
				return msg
			}
		}
		return ""
	case string:
		if gs, ok := g.(string); ok && hex32.MatchString(wv) && hex32.MatchString(gs) {
			return "" // generated call/channel id: compared by shape
		}
	}
	if !reflect.DeepEqual(w, g) {
		return fmt.Sprintf("%s: got %v, want %v", path, g, w)
	}
	return ""
}

// validationHead is the count at the start of a validation error's first line
// ("1 validation error for X", "2 validation errors for X").
var validationHead = regexp.MustCompile(`^\d+ validation errors?`)

// replayCallMeBack replays the multi-step call_me_back transcript.
func replayCallMeBack(t *testing.T, g *goldenFrame, f *goFixture) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := dialRaw(ctx, f.url("/ws"), []string{"jsonrpc2.0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	var want []json.RawMessage
	for _, step := range g.Transcript {
		if step.Dir == "recv" {
			want = append(want, step.Frame)
		}
	}
	send := func(s string) { c.send(ctx, t, websocket.MessageText, []byte(s)) }
	send(`{"jsonrpc": "2.0", "id": "cmb-1", "method": "call_me_back", "params": {"method_name": "echo", "args": {"text": "t"}}}`)
	first, _ := c.collect(quietPeriod)
	// Python sends the reply (the new call id) before its request to us (FINDINGS §3.5); the
	// Go server sends its request first. Nothing may rely on that order, so compare both
	// frames regardless of order.
	if len(first) != 2 {
		t.Fatalf("after call_me_back: got %s, want 2 frames", joinRaw(first))
	}
	if bytes.Contains(first[0], []byte(`"method"`)) {
		first[0], first[1] = first[1], first[0]
	}
	matchFrames(t, "call_me_back", want[:2], first)
	var req struct {
		ID     string `json:"id"`
		Params struct {
			Text string `json:"text"`
		} `json:"params"`
	}
	_ = json.Unmarshal(first[1], &req)
	var reply struct {
		Result string `json:"result"`
	}
	_ = json.Unmarshal(first[0], &reply)
	if req.ID == "" || req.ID != reply.Result {
		t.Fatalf("call id %q returned, request carried %q", reply.Result, req.ID)
	}
	send(fmt.Sprintf(`{"jsonrpc": "2.0", "id": %q, "result": %q}`, req.ID, req.Params.Text))
	time.Sleep(300 * time.Millisecond)
	send(fmt.Sprintf(`{"jsonrpc": "2.0", "id": "cmb-2", "method": "get_response", "params": {"call_id": %q}}`, req.ID))
	r2, _ := c.collect(quietPeriod)
	matchFrames(t, "get_response", want[2:3], r2)
	send(fmt.Sprintf(`{"jsonrpc": "2.0", "id": "cmb-3", "method": "get_response", "params": {"call_id": %q}}`, req.ID))
	r3, _ := c.collect(quietPeriod)
	matchFrames(t, "second get_response", want[3:4], r3)
}

package interop

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
)

// wireTap is a TCP proxy on a loopback port that forwards one or more WebSocket connections
// to an upstream address unchanged and records every message that crosses it, in each
// direction, as it is on the wire: the payload bytes of its frames (unmasked), so a test can
// assert a message's exact length and bytes. It only reads a copy of the stream: what it
// forwards is what it received. It understands uncompressed messages only (wsrpc never
// negotiates permessage-deflate; a compressed message is recorded with rsv1 set).
type wireTap struct {
	ln       net.Listener
	upstream string

	mu    sync.Mutex
	msgs  []tapMsg
	conns int
	wg    sync.WaitGroup
	open  []net.Conn
}

// tapMsg is one message (data or control) as it crossed the tap.
type tapMsg struct {
	Conn     int    // 1-based index of the TCP connection
	ToServer bool   // client -> server
	Opcode   byte   // 1 text, 2 binary, 8 close, 9 ping, 10 pong
	Payload  []byte // the whole message, unmasked, fragments joined
	RSV1     bool   // compressed (never expected)
}

func (m tapMsg) CloseCode() int {
	if m.Opcode != 8 || len(m.Payload) < 2 {
		return -1
	}
	return int(binary.BigEndian.Uint16(m.Payload))
}

func (m tapMsg) String() string {
	dir := "server->client"
	if m.ToServer {
		dir = "client->server"
	}
	return fmt.Sprintf("conn %d %s op %d: %d bytes %s", m.Conn, dir, m.Opcode, len(m.Payload), tail(string(m.Payload[:min(len(m.Payload), 120)]), 120))
}

// newWireTap starts a tap in front of upstream (host:port); it stops with the test.
func newWireTap(t testing.TB, upstream string) *wireTap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &wireTap{ln: ln, upstream: upstream}
	w.wg.Add(1)
	go w.accept()
	t.Cleanup(w.close)
	return w
}

func (w *wireTap) port() int { return w.ln.Addr().(*net.TCPAddr).Port }

func (w *wireTap) close() {
	_ = w.ln.Close()
	w.mu.Lock()
	for _, c := range w.open {
		_ = c.Close()
	}
	w.mu.Unlock()
	w.wg.Wait()
}

func (w *wireTap) accept() {
	defer w.wg.Done()
	for {
		down, err := w.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", w.upstream)
		if err != nil {
			_ = down.Close()
			continue
		}
		w.mu.Lock()
		w.conns++
		id := w.conns
		w.open = append(w.open, down, up)
		w.mu.Unlock()
		w.wg.Add(2)
		go w.pump(id, true, down, up)
		go w.pump(id, false, up, down)
	}
}

// pump copies src to dst and parses the copy (first, so that a message is recorded before
// its last bytes are forwarded); when either side ends, both are closed.
func (w *wireTap) pump(id int, toServer bool, src, dst net.Conn) {
	defer w.wg.Done()
	p := &frameParser{tap: w, conn: id, toServer: toServer}
	_, _ = io.Copy(io.MultiWriter(p, dst), src)
	_ = src.Close()
	_ = dst.Close()
}

// messages returns a copy of what was recorded so far.
func (w *wireTap) messages() []tapMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]tapMsg(nil), w.msgs...)
}

func (w *wireTap) connCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conns
}

// dataMessages returns the text and binary messages in one direction.
func (w *wireTap) dataMessages(toServer bool) []tapMsg {
	var out []tapMsg
	for _, m := range w.messages() {
		if m.ToServer == toServer && (m.Opcode == 1 || m.Opcode == 2) {
			out = append(out, m)
		}
	}
	return out
}

// frameParser is an io.Writer that parses the HTTP upgrade exchange and then WebSocket
// frames from the bytes written to it, recording each complete message on the tap.
type frameParser struct {
	tap      *wireTap
	conn     int
	toServer bool

	buf       []byte
	upgraded  bool
	broken    bool
	msgOp     byte
	msgRSV1   bool
	msgBuf    []byte
	inMessage bool
}

func (p *frameParser) Write(b []byte) (int, error) {
	if p.broken {
		return len(b), nil
	}
	p.buf = append(p.buf, b...)
	if !p.upgraded {
		i := bytes.Index(p.buf, []byte("\r\n\r\n"))
		if i < 0 {
			return len(b), nil
		}
		p.buf = p.buf[i+4:]
		p.upgraded = true
	}
	for {
		n, err := p.frame()
		if err != nil {
			p.broken = true // not a WebSocket stream: record nothing more
			return len(b), nil
		}
		if n == 0 {
			break
		}
		p.buf = p.buf[n:]
	}
	if len(p.buf) == 0 {
		p.buf = nil // let a large consumed buffer go
	}
	return len(b), nil
}

// frame consumes one complete frame from p.buf and returns its length, or 0 if the
// buffer does not yet hold a whole frame.
func (p *frameParser) frame() (int, error) {
	b := p.buf
	if len(b) < 2 {
		return 0, nil
	}
	fin, rsv1, op := b[0]&0x80 != 0, b[0]&0x40 != 0, b[0]&0x0f
	masked := b[1]&0x80 != 0
	n := uint64(b[1] & 0x7f)
	h := 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	var key []byte
	if masked {
		if len(b) < h+4 {
			return 0, nil
		}
		key = b[h : h+4]
		h += 4
	}
	if n > 1<<40 {
		return 0, errors.New("frame too long")
	}
	if uint64(len(b)-h) < n {
		return 0, nil
	}
	payload := append([]byte(nil), b[h:h+int(n)]...)
	for i := range payload {
		if key != nil {
			payload[i] ^= key[i%4]
		}
	}
	switch {
	case op >= 8: // control frame: a message of its own, may come between fragments
		p.record(tapMsg{Opcode: op, Payload: payload})
	case op == 0: // continuation
		if !p.inMessage {
			return 0, errors.New("continuation without a message")
		}
		p.msgBuf = append(p.msgBuf, payload...)
	default:
		if p.inMessage {
			return 0, errors.New("new message inside a fragmented one")
		}
		p.inMessage, p.msgOp, p.msgRSV1, p.msgBuf = true, op, rsv1, payload
	}
	if op < 8 && fin {
		p.record(tapMsg{Opcode: p.msgOp, Payload: p.msgBuf, RSV1: p.msgRSV1})
		p.inMessage, p.msgBuf = false, nil
	}
	return h + int(n), nil
}

func (p *frameParser) record(m tapMsg) {
	m.Conn, m.ToServer = p.conn, p.toServer
	p.tap.mu.Lock()
	p.tap.msgs = append(p.tap.msgs, m)
	p.tap.mu.Unlock()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

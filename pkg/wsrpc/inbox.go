//go:build !js

package wsrpc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// inbox is the read side of a client's plain (not TLS) TCP connection (corkConn.Read):
// it reads the socket into a buffer of its own and hands the bytes to the library one
// WebSocket frame at a time, never past the end of a frame. Between messages, then,
// nothing received waits in the library's read buffer: it is all here, where a caller
// that reads for itself with a deadline (callerread.go) can see whether a whole message
// has arrived (so that the library's Read cannot block) and wait for more with a deadline
// (a blocked library Read cannot be abandoned without closing the connection).
//
// Until the end of the HTTP handshake response it hands out bytes up to its blank line
// only, so that the HTTP client buffers nothing of the first frames. If the bytes after
// it do not parse as frames, the inbox hands everything out as it comes and no message
// can be told complete (callers then leave the reading to the reader goroutine).
//
// Its reads are serialized by rmu: the goroutine reading the connection uses it, but the
// library's Close may read for the closing handshake while a caller waits for input.
type inbox struct {
	rmu  sync.Mutex
	conn net.Conn
	raw  syscall.RawConn
	buf  []byte // received bytes: buf[r:w] are not handed out yet
	r, w int
	err  error // the socket's read error, reported once buf is drained

	handshake bool // still in the HTTP response: hand out up to its blank line
	crlf      int  // progress through "\r\n\r\n"
	broken    bool // the stream is not frames: hand out everything
	frame     frameCursor

	mu          sync.Mutex // waiting and interrupted, and the read deadline they set
	waiting     bool
	interrupted bool

	readFn func(fd uintptr) bool // made once: the syscall fill reads with (results in n, rerr)
	n      int
	rerr   error
}

const (
	inboxMin    = 4 << 10  // initial buffer
	inboxMax    = 64 << 10 // a message that does not fit is read by the reader goroutine
	inboxDirect = 4 << 10  // a payload read of at least this much bypasses the buffer
)

var (
	errInterrupted = errors.New("wsrpc: wait for input interrupted") // the context ended
	errInboxFull   = errors.New("wsrpc: inbox full")                 // (complete says not known first)
)

func newInbox(c net.Conn) *inbox {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	b := &inbox{conn: c, raw: raw, handshake: true}
	b.readFn = func(fd uintptr) bool {
		for {
			b.n, b.rerr = syscall.Read(int(fd), b.buf[b.w:])
			if b.rerr != syscall.EINTR {
				return b.rerr != syscall.EAGAIN
			}
		}
	}
	return b
}

// read is corkConn.Read: it hands out what the buffer holds (up to the end of the current
// frame), reading the socket when the buffer is empty.
func (b *inbox) read(p []byte) (int, error) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if b.err != nil {
			return 0, b.err
		}
		if left := b.frame.payloadLeft(); left >= inboxDirect && len(p) >= inboxDirect && !b.handshake && !b.broken {
			// The middle of a large payload: straight into the library's buffer.
			n, err := b.conn.Read(p[:min(int64(len(p)), left)])
			b.frame.skip(n)
			return n, err
		}
		if b.buf == nil {
			b.buf = make([]byte, inboxMin)
		}
		n, err := b.conn.Read(b.buf)
		b.r, b.w = 0, n
		if err != nil {
			b.err = err
			if n == 0 {
				return 0, err
			}
		}
	}
	n := b.take(min(len(p), b.w-b.r))
	copy(p, b.buf[b.r:b.r+n])
	b.r += n
	return n, nil
}

// take returns how many of the next limit buffered bytes may be handed out now.
func (b *inbox) take(limit int) int {
	data := b.buf[b.r : b.r+limit]
	switch {
	case b.handshake:
		for i, c := range data {
			switch {
			case c == '\r' && b.crlf != 1 && b.crlf != 3:
				b.crlf++
			case c == '\n' && (b.crlf == 1 || b.crlf == 3):
				b.crlf++
			case c == '\r':
				b.crlf = 1
			default:
				b.crlf = 0
			}
			if b.crlf == 4 {
				b.handshake = false
				return i + 1
			}
		}
		return len(data)
	case b.broken:
		return len(data)
	}
	n, ok := b.frame.take(data)
	if !ok {
		b.broken = true
		return len(data)
	}
	return n
}

// complete reports whether the bytes waiting here hold a whole data message or a close
// frame, so that the library's Read will return without reading the socket. known is
// false when that cannot be told (the stream is not tracked, the reading stopped inside
// a frame, or the message is too large for the buffer), or when a ping or pong comes
// first (the library answers those inside a Read that goes on to wait for a message).
func (b *inbox) complete() (yes, known bool) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	if b.handshake || b.broken || b.frame.hn != 0 {
		return false, false
	}
	if b.r == b.w && b.err != nil {
		return true, true // the library's Read reports the error at once
	}
	data := b.buf[b.r:b.w]
	room := b.w-b.r < inboxMax
	for {
		if len(data) < 2 || len(data) < headerLen(data[1]) {
			return false, room
		}
		if !validFirstByte(data[0]) {
			return false, false
		}
		hl := headerLen(data[1])
		pl := payloadLen(data[:hl])
		if pl < 0 || pl > inboxMax {
			return false, false
		}
		if int64(len(data)-hl) < pl {
			// An incomplete frame: it must fit in the buffer with what precedes it.
			return false, int64(b.w-b.r)-int64(len(data))+int64(hl)+pl <= inboxMax
		}
		op, fin := data[0]&0x0f, data[0]&0x80 != 0
		switch {
		case op == 8 || op < 8 && fin:
			return true, true
		case op > 8:
			// A ping or pong: only the library's Read answers it, and that Read would
			// then wait for a data message. Not for a caller with a deadline.
			return false, false
		}
		data = data[hl+int(pl):]
	}
}

// wait reads more from the socket into the buffer, waiting until something arrives, the
// connection fails (then the library's Read reports it), or ctx ends (errInterrupted).
func (b *inbox) wait(ctx context.Context) error {
	b.mu.Lock()
	b.waiting = true
	b.mu.Unlock()
	stop := context.AfterFunc(ctx, b.interrupt)
	var err error
	if ctx.Err() != nil {
		err = errInterrupted
	} else {
		err = b.fill()
	}
	stop()
	b.mu.Lock()
	b.waiting = false
	if b.interrupted {
		b.interrupted = false
		_ = b.conn.SetReadDeadline(time.Time{})
	}
	b.mu.Unlock()
	return err
}

// interrupt ends a wait in progress (from another goroutine).
func (b *inbox) interrupt() {
	b.mu.Lock()
	if b.waiting {
		b.interrupted = true
		_ = b.conn.SetReadDeadline(time.Unix(1, 0))
	}
	b.mu.Unlock()
}

// fill reads what the socket has, waiting (in the Go poller) while it has nothing.
func (b *inbox) fill() error {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	if b.buf == nil {
		b.buf = make([]byte, inboxMin)
	}
	if b.r > 0 {
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	if b.w == len(b.buf) {
		if len(b.buf) >= inboxMax {
			return errInboxFull
		}
		b.buf = append(b.buf, make([]byte, len(b.buf))...)[:min(2*len(b.buf), inboxMax)]
	}
	err := b.raw.Read(b.readFn)
	n, rerr := b.n, b.rerr
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errInterrupted
	case err != nil:
		b.err = err
	case rerr != nil:
		b.err = &net.OpError{Op: "read", Net: "tcp", Source: b.conn.LocalAddr(), Addr: b.conn.RemoteAddr(), Err: os.NewSyscallError("read", rerr)}
	case n == 0:
		b.err = io.EOF
	default:
		b.w += n
	}
	return nil
}

// frameCursor follows the WebSocket frames handed out: the header of the current frame
// and how much of its payload is left.
type frameCursor struct {
	hdr  [14]byte
	hn   int   // header bytes seen (0: at a frame boundary)
	left int64 // payload bytes left, once the header is complete
}

func (f *frameCursor) inHeader() bool { return f.hn < 2 || f.hn < headerLen(f.hdr[1]) }

func (f *frameCursor) payloadLeft() int64 {
	if f.hn == 0 || f.inHeader() {
		return 0
	}
	return f.left
}

// skip accounts for n payload bytes handed out by a direct read.
func (f *frameCursor) skip(n int) {
	if n > 0 {
		f.left -= int64(n)
		if f.left == 0 {
			f.hn = 0
		}
	}
}

// take returns how many bytes of p belong to the current frame, stopping at its end; ok
// is false when p does not continue a valid frame.
func (f *frameCursor) take(p []byte) (n int, ok bool) {
	for n < len(p) {
		if f.inHeader() {
			f.hdr[f.hn] = p[n]
			f.hn++
			n++
			if f.hn == 1 && !validFirstByte(f.hdr[0]) {
				return n, false
			}
			if f.hn >= 2 && f.hn == headerLen(f.hdr[1]) {
				if f.left = payloadLen(f.hdr[:f.hn]); f.left < 0 {
					return n, false
				}
				if f.left == 0 {
					f.hn = 0
					return n, true
				}
			}
			continue
		}
		k := min(int64(len(p)-n), f.left)
		n += int(k)
		f.left -= k
		if f.left == 0 {
			f.hn = 0
			return n, true
		}
	}
	return n, true
}

// validFirstByte accepts a frame's first byte: no reserved bits (no extension is
// negotiated), a known opcode, and control frames unfragmented.
func validFirstByte(b byte) bool {
	op := b & 0x0f
	switch {
	case b&0x70 != 0:
		return false
	case op <= 2:
		return true
	case op >= 8 && op <= 10:
		return b&0x80 != 0
	}
	return false
}

// headerLen is a frame header's length given its second byte.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// payloadLen is the payload length in a complete frame header, or -1 if invalid.
func payloadLen(h []byte) int64 {
	switch n := h[1] & 0x7f; n {
	case 126:
		return int64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		v := binary.BigEndian.Uint64(h[2:10])
		if v>>63 != 0 {
			return -1
		}
		return int64(v)
	default:
		return int64(n)
	}
}

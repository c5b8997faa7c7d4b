//go:build !js

package wsrpc

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"testing"
)

// frameBytes encodes one WebSocket frame.
func frameBytes(fin bool, op byte, payload []byte, mask bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0, 0}
	switch n := len(payload); {
	case n < 126:
		out[1] = byte(n)
	case n < 1<<16:
		out[1] = 126
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out[1] = 127
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if mask {
		out[1] |= 0x80
		out = append(out, 1, 2, 3, 4)
	}
	return append(out, payload...)
}

// chunkConn returns its bytes in the given chunks (a read never spans two).
type chunkConn struct {
	net.Conn
	chunks [][]byte
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

const testHandshake = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"

// frameStream is a handshake and random messages (some fragmented, with control frames
// between fragments and between messages), with the offsets where frames and messages end.
func frameStream(r *rand.Rand, messages int) (stream []byte, frameEnds, messageEnds, controlEnds map[int]bool) {
	frameEnds, messageEnds, controlEnds = map[int]bool{}, map[int]bool{}, map[int]bool{}
	stream = []byte(testHandshake)
	frameEnds[len(stream)] = true
	sizes := []int{0, 1, 7, 125, 126, 127, 300, 4095, 4096, 4097, 65535, 65536, 70000}
	add := func(fin bool, op byte, n int) {
		payload := bytes.Repeat([]byte{byte('a' + r.IntN(26))}, n)
		stream = append(stream, frameBytes(fin, op, payload, r.IntN(4) == 0)...)
		frameEnds[len(stream)] = true
		if op == 9 || op == 10 {
			controlEnds[len(stream)] = true
		}
	}
	for range messages {
		if r.IntN(4) == 0 {
			add(true, 9, r.IntN(20)) // a ping between messages
		}
		parts := 1 + r.IntN(3)
		for i := range parts {
			op := byte(1)
			if i > 0 {
				op = 0
			}
			add(i == parts-1, op, sizes[r.IntN(len(sizes))])
			if i < parts-1 && r.IntN(3) == 0 {
				add(true, 10, r.IntN(10)) // a pong between fragments
			}
		}
		messageEnds[len(stream)] = true
	}
	add(true, 8, 2) // close
	messageEnds[len(stream)] = true
	return stream, frameEnds, messageEnds, controlEnds
}

// someSize is 1 to 16 a third of the time, else up to max.
func someSize(r *rand.Rand, max int) int {
	if r.IntN(3) == 0 {
		return 1 + r.IntN(16)
	}
	return 1 + r.IntN(max)
}

func chunked(r *rand.Rand, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := min(len(b), someSize(r, 9000))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// The inbox hands out every byte in order, never a read across the end of the handshake
// or of a frame, and at every message boundary tells exactly whether the next message
// (or close frame) is all buffered, unless a ping or pong is buffered before its end.
func TestInboxFollowsFrames(t *testing.T) {
	for seed := range uint64(25) {
		r := rand.New(rand.NewPCG(seed, 7))
		stream, frameEnds, messageEnds, controlEnds := frameStream(r, 30)
		b := &inbox{conn: &chunkConn{chunks: chunked(r, stream)}, handshake: true}
		var got []byte
		pos := 0
		nextEnd := func(from int) int {
			for i := from + 1; i <= len(stream); i++ {
				if messageEnds[i] {
					return i
				}
			}
			return -1
		}
		checked := 0
		for {
			if messageEnds[pos] || pos == len(testHandshake) {
				yes, known := b.complete()
				next := nextEnd(pos)
				buffered := pos + b.w - b.r
				control := false // a ping or pong buffered before the message's end
				for e := pos + 1; e <= min(buffered, next); e++ {
					control = control || controlEnds[e]
				}
				switch {
				case !known:
					// Only a message larger than the buffer, or one behind a control
					// frame, may be unknown.
					if !control && next-pos <= inboxMax-16 && b.w-b.r < inboxMax {
						t.Fatalf("seed %d at %d: completeness unknown for a %d-byte message", seed, pos, next-pos)
					}
				case control:
					t.Fatalf("seed %d at %d: completeness known behind a buffered ping or pong", seed, pos)
				case next > 0 && yes != (buffered >= next):
					t.Fatalf("seed %d at %d: complete=%v with %d bytes buffered, next message ends at +%d", seed, pos, yes, b.w-b.r, next-pos)
				}
				checked++
			}
			p := make([]byte, someSize(r, 10000))
			n, err := b.read(p)
			for i := pos + 1; i < pos+n; i++ {
				if frameEnds[i] {
					t.Fatalf("seed %d: read of %d bytes at %d crosses the frame end at %d", seed, n, pos, i)
				}
			}
			got = append(got, p[:n]...)
			pos += n
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, stream) {
			t.Fatalf("seed %d: %d bytes out, %d in, or different", seed, len(got), len(stream))
		}
		if b.broken || checked < 30 {
			t.Fatalf("seed %d: broken %v, %d checks", seed, b.broken, checked)
		}
	}
}

// Bytes that are not frames are handed out as they come, and no message is then known
// complete.
func TestInboxNotFrames(t *testing.T) {
	stream := append([]byte(testHandshake), frameBytes(true, 1, []byte("ok"), false)...)
	stream = append(stream, 0x71, 0x05, 'h', 'e', 'l', 'l', 'o', 'x', 'y') // reserved bits set
	b := &inbox{conn: &chunkConn{chunks: [][]byte{stream}}, handshake: true}
	var got []byte
	for {
		p := make([]byte, 3)
		n, err := b.read(p)
		got = append(got, p[:n]...)
		if err != nil {
			break
		}
	}
	if !bytes.Equal(got, stream) || !b.broken {
		t.Fatalf("got %q (broken %v)", got, b.broken)
	}
	if _, known := b.complete(); known {
		t.Fatal("completeness known on a stream that is not frames")
	}
}

// FuzzInbox: whatever the bytes after the handshake, the inbox hands them all out in
// order, and never crosses the end of the handshake.
func FuzzInbox(f *testing.F) {
	f.Add(frameBytes(true, 1, []byte("hello"), false), uint64(1))
	f.Add(append(frameBytes(false, 1, []byte("he"), true), frameBytes(true, 0, []byte("llo"), false)...), uint64(2))
	f.Add([]byte{0x81, 0x7f, 0xff, 0, 0, 0, 0, 0, 0, 1}, uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 1))
		stream := append([]byte(testHandshake), data...)
		b := &inbox{conn: &chunkConn{chunks: chunked(r, stream)}, handshake: true}
		var got []byte
		for {
			if len(got) == len(testHandshake) || r.IntN(4) == 0 {
				b.complete()
			}
			p := make([]byte, 1+r.IntN(200))
			n, err := b.read(p)
			if len(got) < len(testHandshake) && len(got)+n > len(testHandshake) {
				t.Fatalf("read of %d at %d crosses the end of the handshake", n, len(got))
			}
			got = append(got, p[:n]...)
			if err != nil {
				break
			}
		}
		if !bytes.Equal(got, stream) {
			t.Fatalf("%d bytes out, %d in, or different", len(got), len(stream))
		}
	})
}

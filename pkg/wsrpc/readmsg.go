//go:build !js

package wsrpc

import (
	"context"
	"io"

	"github.com/coder/websocket"
)

// largeMessage is the size from which reading sizes its buffer after the previous message
// (readMessage) and the reply to a large result is assembled directly (wire.AppendResult).
const largeMessage = 64 << 10

// readSlack is the room readMessage leaves beyond the previous message's size.
const readSlack = 4 << 10

// readMessage reads one message like the library's Read, whose io.ReadAll starts with 512
// bytes and doubles (for a 4 MiB message: 14 allocations and about twice its size
// copied). When the previous message on the connection was large, the buffer starts at
// that size and a little more, so that the read that finds the end of a message as long
// as the previous one has room and does not grow it (a stream of large messages is read
// with one allocation and no copy); a buffer left more than half empty is trimmed to its
// message.
func readMessage(c *websocket.Conn, hint *int) (websocket.MessageType, []byte, error) {
	typ, r, err := c.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	size := 512
	if *hint >= largeMessage {
		size = *hint + readSlack
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	*hint = len(buf)
	if cap(buf) > 2*len(buf) && cap(buf) > largeMessage {
		buf = append([]byte(nil), buf...)
	}
	return typ, buf, nil
}

func (s serverConn) readSized(hint *int) (websocket.MessageType, []byte, error) {
	return readMessage(s.Conn, hint)
}

func (c clientConn) readSized(hint *int) (websocket.MessageType, []byte, error) {
	return readMessage(c.Conn, hint)
}

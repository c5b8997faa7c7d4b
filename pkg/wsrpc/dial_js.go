//go:build js

package wsrpc

import (
	"context"
	"net"
)

// dial opens a browser WebSocket (jsConn). Browsers send no custom headers and no protocol
// pings. A connection that closes before it opens fails with net.ErrClosed (the WebSocket
// API tells no more; the loader keeps why, see wasm/main.go's explain).
func dial(ctx context.Context, url string, cfg *Config) (conn, string, error) {
	c, err := newJSConn(httpToWS(url), cfg.negotiated())
	if err != nil {
		return nil, "", dialError(url, err)
	}
	select {
	case <-c.opened:
		return c, c.Subprotocol(), nil
	case <-c.closed:
		select {
		case <-c.opened: // it opened, then closed at once: Read reports the close
			return c, c.Subprotocol(), nil
		default:
		}
		return nil, "", dialError(url, net.ErrClosed)
	case <-ctx.Done():
		_ = c.CloseNow() // (the close event then removes the listeners)
		return nil, "", dialError(url, ctx.Err())
	}
}

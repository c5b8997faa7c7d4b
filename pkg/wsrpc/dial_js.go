//go:build js

package wsrpc

import (
	"context"

	"github.com/coder/websocket"
)

// dial opens a browser WebSocket. Browsers send no custom headers and no protocol pings;
// see browserConn for how the connection is adapted.
func dial(ctx context.Context, url string, cfg *Config) (conn, string, error) {
	wc, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: cfg.negotiated()})
	if err != nil {
		return nil, "", err
	}
	// The browser hands over whole messages: the Channel checks their size itself and closes
	// with a code browsers accept (the library's own check would close with 1009, which
	// browsers refuse).
	wc.SetReadLimit(-1)
	return newBrowserConn(wc), wc.Subprotocol(), nil
}

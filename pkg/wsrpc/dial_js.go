//go:build js

package wsrpc

import (
	"context"

	"github.com/coder/websocket"
)

// dial opens a browser WebSocket. Browsers send no custom headers and no protocol pings;
// see browserConn for how the connection is adapted.
func dial(ctx context.Context, url string, cfg *Config) (conn, string, error) {
	wc, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: cfg.subprotocols()})
	if err != nil {
		return nil, "", err
	}
	wc.SetReadLimit(cfg.MaxMessageSize)
	return newBrowserConn(wc), wc.Subprotocol(), nil
}

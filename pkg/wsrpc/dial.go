//go:build !js

package wsrpc

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
)

func dial(ctx context.Context, url string, cfg *Config) (conn, string, error) {
	opts := &websocket.DialOptions{
		HTTPHeader:   cfg.Header,
		Subprotocols: cfg.subprotocols(),
		HTTPClient:   cfg.HTTPClient,
	}
	if opts.HTTPClient == nil && cfg.TLSConfig != nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg.TLSConfig}}
	}
	wc, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, "", &HTTPError{Status: resp.StatusCode, Message: "handshake refused: " + err.Error()}
		}
		return nil, "", err
	}
	wc.SetReadLimit(cfg.MaxMessageSize)
	return wc, wc.Subprotocol(), nil
}

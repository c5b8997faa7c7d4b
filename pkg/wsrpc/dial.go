//go:build !js

package wsrpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

func dial(ctx context.Context, url string, cfg *Config) (conn, string, error) {
	if err := checkClientCertificates(cfg.TLSConfig, time.Now()); err != nil {
		return nil, "", err
	}
	opts := &websocket.DialOptions{
		HTTPHeader:   cfg.Header,
		Subprotocols: cfg.negotiated(),
		HTTPClient:   cfg.HTTPClient,
	}
	var (
		mu    sync.Mutex
		cc    *corkConn // the connection dialled for the handshake
		dials int
	)
	if opts.HTTPClient == nil {
		// Our own transport: its connection coalesces writes under load (corkConn).
		d := &net.Dialer{}
		opts.HTTPClient = &http.Client{Transport: &http.Transport{
			TLSClientConfig: cfg.TLSConfig,
			Proxy:           http.ProxyFromEnvironment,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				mu.Lock()
				defer mu.Unlock()
				cc = newCorkConn(c, cfg.writeTimeout())
				dials++
				return cc, nil
			},
		}}
	}
	wc, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, "", &HTTPError{Status: resp.StatusCode, Message: "handshake refused: " + err.Error()}
		}
		return nil, "", err
	}
	wc.SetReadLimit(cfg.MaxMessageSize)
	mu.Lock()
	defer mu.Unlock()
	if cc != nil && dials == 1 { // (a transport that dialled twice: which one is in use is unknown)
		return clientConn{Conn: wc, corked: corked{cc}}, wc.Subprotocol(), nil
	}
	return wc, wc.Subprotocol(), nil
}

// clientConn is a dialled connection on our own transport, which coalesces writes.
type clientConn struct {
	*websocket.Conn
	corked
}

// CloseNow closes the TCP connection first: the library's own CloseNow waits for its
// reader, which a peer trickling a frame could hold for long.
func (c clientConn) CloseNow() error {
	_ = c.cc.Close()
	return c.Conn.CloseNow()
}

// checkClientCertificates refuses to connect with a configured client certificate that is
// expired or not yet valid (the server's certificate is checked by standard TLS
// verification).
func checkClientCertificates(tc *tls.Config, now time.Time) error {
	if tc == nil {
		return nil
	}
	for _, cert := range tc.Certificates {
		leaf := cert.Leaf
		if leaf == nil && len(cert.Certificate) > 0 {
			var err error
			if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return fmt.Errorf("%w: parsing client certificate: %v", ErrCertificate, err)
			}
		}
		if leaf == nil {
			continue
		}
		if now.After(leaf.NotAfter) {
			return fmt.Errorf("%w: client certificate %q expired on %s", ErrCertificate, leaf.Subject.CommonName, leaf.NotAfter.Format(time.RFC3339))
		}
		if now.Before(leaf.NotBefore) {
			return fmt.Errorf("%w: client certificate %q is not valid before %s", ErrCertificate, leaf.Subject.CommonName, leaf.NotBefore.Format(time.RFC3339))
		}
	}
	return nil
}

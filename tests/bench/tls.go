package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Section 11: wss:// on loopback, with a self-signed certificate made at startup: the
// wsrpc client -> wsrpc server against a raw TLS coder/websocket echo (raw generator ->
// raw echo), at 1 and 256 calls in flight.

var tlsShapes = []spec{{1, 1}, {1, 256}}

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1 and returns the server's TLS
// config and a client config trusting it (TLS 1.3 both, the default).
func selfSigned() (srv, cli *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wsrpc-bench"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, NextProtos: []string{"http/1.1"}}
	cli = &tls.Config{RootCAs: pool}
	return srv, cli, nil
}

func wssSection(rep *report, o options) {
	fail := func(err error) {
		rep.Notes = append(rep.Notes, "section 11: "+err.Error())
		rep.failedToRun++
	}
	srvTLS, cliTLS, err := selfSigned()
	if err != nil {
		fail(err)
		return
	}
	echo, err := serveWSOn(rawEcho, srvTLS)
	if err != nil {
		fail(err)
		return
	}
	defer echo.Close()
	ws, err := newWSServerOn(srvTLS, loadLimits)
	if err != nil {
		fail(err)
		return
	}
	defer ws.Close()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cliTLS}}
	defer hc.CloseIdleConnections()
	withTLS := func(c *wsrpc.Config) { c.TLSConfig = cliTLS }
	for _, s := range tlsShapes {
		t, rounds := o.t, 3
		if s.inflight() == 1 {
			t.dur, rounds = 2*t.dur, 6 // as in section 1
		}
		measureTurns(rep, t, rounds, row{Section: "11", Shape: s.String(), Conns: s.conns, InFlight: s.inflight()}, 0, []turn{
			{nameRawEcho, rawGenTurn(echo.URL, s.conns, s.perConn, concatWork, hc), 0},
			{nameE2E, wsTurn(ws.URL, s.conns, s.perConn, nil, withTLS), 0},
		})
	}
}

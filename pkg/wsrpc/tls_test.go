//go:build !js

package wsrpc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestWSSAndClientCertificateExpiry(t *testing.T) {
	srv, err := NewServer(utilityMethods(), WithLogger(quietLogger))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(func() { _ = srv.Close(); hs.Close() })
	url := "wss" + strings.TrimPrefix(hs.URL, "https")
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())

	// wss:// with a custom tls.Config.
	c := dialTest(t, url, func(c *Config) { c.TLSConfig = &tls.Config{RootCAs: roots} })
	var s string
	if err := c.Call(ctxT(t, 5*time.Second), "echo", map[string]string{"text": "tls"}, &s); err != nil || s != "tls" {
		t.Fatal(err, s)
	}
	// Standard verification rejects an untrusted server.
	if _, err := Dial(ctxT(t, 5*time.Second), url, WithLogger(quietLogger), func(c *Config) { c.Retry.Disabled = true }); err == nil {
		t.Fatal("untrusted server certificate accepted")
	}
	// An expired client certificate is refused before connecting, without retries.
	expired := selfSigned(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	start := time.Now()
	_, err = Dial(ctxT(t, 5*time.Second), url, WithLogger(quietLogger),
		func(c *Config) { c.TLSConfig = &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{expired}} })
	if !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), "expired") || time.Since(start) > time.Second {
		t.Fatal(err)
	}
	future := selfSigned(t, time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))
	if err := checkClientCertificates(&tls.Config{Certificates: []tls.Certificate{future}}, time.Now()); !errors.Is(err, ErrCertificate) {
		t.Fatal(err)
	}
}

func TestOriginCheckedByDefault(t *testing.T) {
	_, url := startServer(t, utilityMethods())
	// A browser page from another origin is refused (403) unless allowed by OriginPatterns.
	_, err := Dial(ctxT(t, 5*time.Second), url, WithLogger(quietLogger), WithHeader("Origin", "http://evil.example"),
		func(c *Config) { c.Retry.Disabled = true })
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 403 {
		t.Fatalf("cross-origin connection: %v", err)
	}
	_, url2 := startServer(t, utilityMethods(), WithOriginPatterns("good.example"))
	c := dialTest(t, url2, WithHeader("Origin", "http://good.example"))
	if err := c.Call(ctxT(t, 5*time.Second), "ping", nil, nil); err != nil {
		t.Fatal(err)
	}
}

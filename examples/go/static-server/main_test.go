package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestPrecompressed(t *testing.T) {
	_ = mime.AddExtensionType(".wasm", "application/wasm")
	dir := t.TempDir()
	raw := bytes.Repeat([]byte("wasm bytes "), 1000)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	br := []byte("not really brotli, but what static-server must send as it is")
	for name, data := range map[string][]byte{"x.wasm": raw, "x.wasm.gz": gz.Bytes(), "x.wasm.br": br, "only.txt": []byte("plain")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(precompressed(dir, http.FileServer(http.Dir(dir))))
	defer srv.Close()
	// No transparent gzip handling: the test sees the response as sent.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}

	for _, tc := range []struct {
		path, accept, method string
		encoding             string // want Content-Encoding
		body                 []byte // want body, as sent
	}{
		{"/x.wasm", "", "GET", "", raw},
		{"/x.wasm", "gzip, deflate, br, zstd", "GET", "br", br},
		{"/x.wasm", "gzip", "GET", "gzip", gz.Bytes()},
		{"/x.wasm", "br;q=0, gzip;q=0.5", "GET", "gzip", gz.Bytes()},
		{"/x.wasm", "BR", "GET", "br", br},
		{"/x.wasm", "*", "GET", "br", br},
		{"/x.wasm", "*, br;q=0", "GET", "gzip", gz.Bytes()},
		{"/x.wasm", "identity", "GET", "", raw},
		{"/x.wasm", "gzip;q=0, br;q=0", "GET", "", raw},
		{"/x.wasm", "br", "HEAD", "br", nil},
		{"/only.txt", "br, gzip", "GET", "", []byte("plain")},
		{"/missing.wasm", "br", "GET", "", nil},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Encoding", tc.accept)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		name := tc.method + " " + tc.path + " Accept-Encoding: " + tc.accept
		if tc.path == "/missing.wasm" {
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", name, res.StatusCode)
			}
			continue
		}
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", name, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Encoding"); got != tc.encoding {
			t.Errorf("%s: Content-Encoding %q, want %q", name, got, tc.encoding)
		}
		if got := res.Header.Get("Vary"); got != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", name, got)
		}
		if tc.path == "/x.wasm" {
			if got := res.Header.Get("Content-Type"); got != "application/wasm" {
				t.Errorf("%s: Content-Type %q", name, got)
			}
		}
		if tc.method == "HEAD" {
			if got, want := res.ContentLength, int64(len(br)); got != want {
				t.Errorf("%s: Content-Length %d, want %d", name, got, want)
			}
			continue
		}
		if !bytes.Equal(body, tc.body) {
			t.Errorf("%s: body of %d bytes, want %d", name, len(body), len(tc.body))
		}
	}

	// The gzip copy decodes to the file itself (what a browser does with it).
	req, _ := http.NewRequest("GET", srv.URL+"/x.wasm", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); !bytes.Equal(got, raw) {
		t.Errorf("gzip body decodes to %d bytes, want the %d of x.wasm", len(got), len(raw))
	}
}

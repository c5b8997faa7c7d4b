// Command static-server serves the browser example: the page (examples/browser) at /, the
// wasm build (build/js: wsrpc.mjs, wsrpc.wasm, wasm_exec.js) at /js/, and optionally
// proxies /ws to a wsrpc server so that the page connects to its own origin.
//
//	static-server -addr 127.0.0.1:8080 -upstream ws://127.0.0.1:9000/ws
//
// Without -upstream, open the page with ?url=ws://127.0.0.1:9000/ws and start the server
// with the page's origin allowed (bidi-server -origins '127.0.0.1:*').
//
// A file that has a precompressed copy beside it (wsrpc.wasm.br, wsrpc.wasm.gz, made by make
// build-wasm) is sent as that copy, with Content-Encoding br or gzip, to a client whose
// Accept-Encoding takes it (br first); others get the file itself. Responses vary on
// Accept-Encoding.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (port 0: any; the URL is printed)")
	root := flag.String("root", "examples/browser", "directory served at /")
	jsDir := flag.String("js", "build/js", "directory served at /js/ (the wasm build)")
	upstream := flag.String("upstream", "", "wsrpc server URL to proxy /ws to (e.g. ws://127.0.0.1:9000/ws)")
	flag.Parse()

	_ = mime.AddExtensionType(".wasm", "application/wasm")
	_ = mime.AddExtensionType(".mjs", "text/javascript; charset=utf-8")
	mux := http.NewServeMux()
	mux.Handle("/", noCache(precompressed(*root, http.FileServer(http.Dir(*root)))))
	mux.Handle("/js/", noCache(http.StripPrefix("/js/", precompressed(*jsDir, http.FileServer(http.Dir(*jsDir))))))
	if *upstream != "" {
		u, err := url.Parse(*upstream)
		if err != nil {
			slog.Error("upstream", "err", err)
			os.Exit(1)
		}
		u.Scheme = strings.Replace(strings.Replace(u.Scheme, "wss", "https", 1), "ws", "http", 1)
		target := &url.URL{Scheme: u.Scheme, Host: u.Host}
		// The Host header stays the page's, so the server sees a same-origin request.
		proxy := httputil.NewSingleHostReverseProxy(target)
		mux.Handle("/ws", withPath(u.Path, proxy))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		slog.Error("listen", "err", err)
		os.Exit(1)
	}
	fmt.Printf("serving http://%s/\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}

func withPath(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = path
		h.ServeHTTP(w, r)
	})
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// encodings are the precompressed copies looked for, in order of preference.
var encodings = []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// precompressed serves dir's NAME.br or NAME.gz for a GET or HEAD of NAME when that copy
// exists and the request's Accept-Encoding takes it; everything else goes to h.
func precompressed(dir string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if r.Method != http.MethodGet && r.Method != http.MethodHead || r.Header.Get("Range") != "" {
			h.ServeHTTP(w, r)
			return
		}
		name := path.Clean("/" + r.URL.Path)
		for _, e := range encodings {
			if !accepts(r.Header.Get("Accept-Encoding"), e.name) {
				continue
			}
			f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)+e.ext))
			if err != nil {
				continue
			}
			st, err := f.Stat()
			if err != nil || st.IsDir() {
				f.Close()
				continue
			}
			defer f.Close()
			ctype := mime.TypeByExtension(path.Ext(name))
			if ctype == "" {
				ctype = "application/octet-stream"
			}
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Encoding", e.name)
			// ServeContent leaves Content-Length out when Content-Encoding is set (it drops it
			// again from a 304); it sets Last-Modified and answers conditional requests, and
			// serves no ranges here (they went to h).
			w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
			http.ServeContent(w, r, name, st.ModTime(), f)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// accepts reports whether an Accept-Encoding header value takes coding (RFC 9110 12.5.3):
// listed by name or as "*", with no q=0.
func accepts(header, coding string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch name {
		case coding:
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}

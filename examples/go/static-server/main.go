// Command static-server serves the browser example: the page (examples/browser) at /, the
// wasm build (build/js: wsrpc.mjs, wsrpc.wasm, wasm_exec.js) at /js/, and optionally
// proxies /ws to a wsrpc server so that the page connects to its own origin.
//
//	static-server -addr 127.0.0.1:8080 -upstream ws://127.0.0.1:9000/ws
//
// Without -upstream, open the page with ?url=ws://127.0.0.1:9000/ws and start the server
// with the page's origin allowed (bidi-server -origins '127.0.0.1:*').
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
	mux.Handle("/", noCache(http.FileServer(http.Dir(*root))))
	mux.Handle("/js/", noCache(http.StripPrefix("/js/", http.FileServer(http.Dir(*jsDir)))))
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

//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkEchoLarge: a wsrpc client calls a wsrpc server's echo, which returns its params
// as a json.RawMessage; b.SetBytes counts the payload one way.
// With valid, the handler returns its params as a ValidJSON (not validated again).
func BenchmarkEchoLarge(b *testing.B) {
	for _, valid := range []bool{false, true} {
		for _, size := range []int{64 << 10, 1 << 20, 4 << 20} {
			b.Run(fmt.Sprintf("valid=%v/size=%dKiB", valid, size>>10), func(b *testing.B) {
				m := NewMethods()
				if valid {
					Register(m, "echo", func(ctx context.Context, p json.RawMessage) (ValidJSON, error) { return ValidJSON(p), nil })
				} else {
					Register(m, "echo", func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) { return p, nil })
				}
				srv, err := NewServer(m, WithLogger(quietLogger), WithMaxMessageSize(16<<20))
				if err != nil {
					b.Fatal(err)
				}
				hs := httptest.NewServer(srv)
				defer func() { srv.Close(); hs.Close() }()
				c, err := Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http"), WithLogger(quietLogger), WithMaxMessageSize(16<<20))
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				params := json.RawMessage(`["` + strings.Repeat("x", size) + `"]`)
				b.SetBytes(int64(len(params)))
				b.ReportAllocs()
				b.ResetTimer()
				runInflight(b, 4, func() {
					var out json.RawMessage
					if err := c.Call(context.Background(), "echo", params, &out); err != nil || len(out) != len(params) {
						b.Error(err, len(out))
					}
				})
			})
		}
	}
}

//go:build !js

package wsrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// escapeForms is every way JSON lets a string be written that the Python peers never send
// (they are covered by the interop suite, tests/interop/large_exact_test.go): the escaped
// solidus, upper-case hex, surrogate pairs, lone and misordered surrogates (decoded to
// U+FFFD, as encoding/json does), an escaped NUL, DEL and U+2028 raw and escaped.
const escapeForms = `\/ \u00E9\u00e9 \uD83D\uDE00\ud83d\ude00 \uDBFF\uDFFF lone:\ud83d| low:\udE00| ` +
	`pair-then-lone:\ud83d\ud83d\ude00| high-then-A:\ud83d\u0041| \u0000 ` + "\x7f \u2028 é€😀" +
	` \u2028\u2029 \"\\\b\f\n\r\t \u001f \uFFFF \u0080`

// TestEveryEscapeFormDecodedLikeEncodingJSON sends JSON strings written with every escape
// form, small and over 1 MiB (the large-message paths), as params to typed and raw handlers
// and as results to a caller, between a Go client and server: every decoded string is what
// encoding/json decodes, and a raw result goes back with the same bytes.
func TestEveryEscapeFormDecodedLikeEncodingJSON(t *testing.T) {
	m := NewMethods()
	Register(m, "text", func(ctx context.Context, p struct {
		Text string `json:"text"`
	}) (string, error) {
		return p.Text, nil
	})
	m.Handle("raw", func(ctx context.Context, params json.RawMessage) (any, error) {
		return params, nil // the handler's own params: sent back as they are
	})
	m.Handle("result", func(ctx context.Context, params json.RawMessage) (any, error) {
		var p struct {
			JSON string `json:"json"`
		}
		if err := json.Unmarshal(params, &p); err != nil {
			return nil, err
		}
		return ValidJSON(p.JSON), nil // a result written with the escape forms
	})
	_, url := startServer(t, m)
	c := dialTest(t, url)
	for _, n := range []int{1, (1 << 20) / len(escapeForms)} {
		t.Run(fmt.Sprintf("%d_bytes", n*len(escapeForms)), func(t *testing.T) {
			lit := `"` + strings.Repeat(escapeForms, n) + `"`
			var want string
			if err := json.Unmarshal([]byte(lit), &want); err != nil {
				t.Fatal(err)
			}
			params := json.RawMessage(`{"text":` + lit + `}`)

			var got string
			if err := c.Call(ctxT(t, 30*time.Second), "text", params, &got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("typed handler decoded %d bytes, encoding/json %d: %s", len(got), len(want), diffAt(got, want))
			}

			var raw json.RawMessage
			if err := c.Call(ctxT(t, 30*time.Second), "raw", params, &raw); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, params) {
				t.Errorf("raw params came back changed: %s", diffAt(string(raw), string(params)))
			}

			got = ""
			if err := c.Call(ctxT(t, 30*time.Second), "result", map[string]string{"json": lit}, &got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("result decoded %d bytes, encoding/json %d: %s", len(got), len(want), diffAt(got, want))
			}
		})
	}
}

func diffAt(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("first difference at byte %d: %q vs %q", i, got[i:min(len(got), i+16)], want[i:min(len(want), i+16)])
}

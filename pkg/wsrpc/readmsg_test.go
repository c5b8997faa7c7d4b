//go:build !js

package wsrpc

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// A stream of large messages of one size is read into buffers sized once: the buffer of
// the second and later messages is the previous size plus readSlack, never grown (a
// growth would double it and copy the message) and never trimmed (a second copy).
func TestReadMessageSizedOnce(t *testing.T) {
	msg := bytes.Repeat([]byte("x"), 1<<20)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for range 3 {
			if c.Write(r.Context(), websocket.MessageText, msg) != nil {
				return
			}
		}
		c.Close(websocket.StatusNormalClosure, "")
	}))
	defer hs.Close()
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(4 << 20)
	hint := 0
	for i := range 3 {
		_, buf, err := readMessage(c, &hint)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, msg) {
			t.Fatalf("message %d: %d bytes, not the %d sent", i, len(buf), len(msg))
		}
		if i > 0 && cap(buf) != len(msg)+readSlack {
			t.Errorf("message %d: buffer of %d bytes for a message of %d after one of the same size (want %d: sized once)", i, cap(buf), len(buf), len(msg)+readSlack)
		}
	}
}

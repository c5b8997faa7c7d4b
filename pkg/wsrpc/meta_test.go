//go:build !js

package wsrpc

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// newFakeExtChannel is newFakeChannel on a connection that negotiated the extensions.
func newFakeExtChannel(t *testing.T, m *Methods, proto string, opts ...Option) (*Channel, *fakeConn) {
	t.Helper()
	f := newFakeConn()
	if m == nil {
		m = NewMethods()
	}
	ch := newChannel(f, testConfig(t, opts...), m, proto, nil)
	ch.start()
	t.Cleanup(func() { _ = ch.Close() })
	return ch, f
}

// TestMetaOutgoing: OutgoingCall.Meta goes out as the "$meta" member only where the peer
// agreed to the extensions; elsewhere the request is byte for byte the one without it.
func TestMetaOutgoing(t *testing.T) {
	setMeta := WithOutgoingInterceptor(func(ctx context.Context, call *OutgoingCall, next OutgoingInvoker) error {
		call.Meta = map[string]string{"traceparent": "00-abc-01", "b": `"q\`}
		return next(ctx, call)
	})
	plainReq := string(wire.AppendRequest(nil, []byte(`"c1"`), "m", []byte(`[1]`)))
	plainNote := string(wire.AppendRequest(nil, nil, "n", nil))
	meta := `,"$meta":{"b":"\"q\\","traceparent":"00-abc-01"}}`
	for _, tc := range []struct {
		proto     string
		req, note string
	}{
		{ExtensionSubprotocol, plainReq[:len(plainReq)-1] + meta, plainNote[:len(plainNote)-1] + meta},
		{DefaultSubprotocol, plainReq, plainNote},
		{"", plainReq, plainNote},
	} {
		ch, f := newFakeExtChannel(t, nil, tc.proto, setMeta)
		ctx := ctxT(t, 10*time.Second)
		if _, err := ch.Go(ctx, "m", []int{1}, WithCallID("c1")); err != nil {
			t.Fatal(err)
		}
		if err := ch.Notify(ctx, "n", nil); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{tc.req, tc.note} {
			select {
			case got := <-f.out:
				if string(got) != want {
					t.Errorf("%q: sent\n%s\nwant\n%s", tc.proto, got, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("nothing sent")
			}
		}
	}
}

// TestMetaIncoming: the peer's "$meta" reaches IncomingRequest.Meta on extended
// connections only; one that is not an object of strings is ignored.
func TestMetaIncoming(t *testing.T) {
	for _, tc := range []struct {
		proto, meta string
		want        map[string]string
	}{
		{ExtensionSubprotocol, `{"traceparent":"00-x","k":"v"}`, map[string]string{"traceparent": "00-x", "k": "v"}},
		{ExtensionSubprotocol, `{"k":1}`, nil},
		{ExtensionSubprotocol, `"text"`, nil},
		{DefaultSubprotocol, `{"k":"v"}`, nil},
	} {
		got := make(chan map[string]string, 2)
		rec := WithIncomingInterceptor(func(ctx context.Context, req *IncomingRequest, next IncomingHandler) (json.RawMessage, error) {
			m := req.Meta.Map()
			// Get, Lookup and Keys agree with Map.
			keys := req.Meta.Keys()
			if len(keys) != len(m) {
				t.Errorf("%s: Keys %v, Map %v", tc.meta, keys, m)
			}
			for _, k := range append(keys, "traceparent", "absent") {
				v, ok := req.Meta.Lookup(k)
				if want, wantOK := m[k]; v != want || ok != wantOK || req.Meta.Get(k) != want {
					t.Errorf("%s: Lookup(%q) = %q, %v; Get %q; want %q, %v", tc.meta, k, v, ok, req.Meta.Get(k), want, wantOK)
				}
			}
			got <- m
			return next(ctx, req)
		})
		_, f := newFakeExtChannel(t, nil, tc.proto, rec)
		f.peerSend(`{"jsonrpc":"2.0","method":"ping","id":1,"$meta":` + tc.meta + `}`)
		if m := f.next(t); m["result"] != "pong" {
			t.Fatalf("%s: answered %v", tc.meta, m)
		}
		f.peerSend(`[{"jsonrpc":"2.0","method":"ping","id":2,"$meta":` + tc.meta + `}]`)
		select {
		case <-f.out:
		case <-time.After(10 * time.Second):
			t.Fatal("no answer to the batch")
		}
		for range 2 {
			if m := <-got; !reflect.DeepEqual(m, tc.want) {
				t.Errorf("%q %s: Meta %v, want %v", tc.proto, tc.meta, m, tc.want)
			}
		}
	}
}

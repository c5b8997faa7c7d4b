package wire

import (
	"reflect"
	"testing"
)

// TestMetaRoundTrip: what AppendMeta writes, Parse finds and DecodeMeta reads back.
func TestMetaRoundTrip(t *testing.T) {
	for _, meta := range []map[string]string{
		{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"a": "", "é\"\\\n<": "\u2028 \x01", "z": "1", "b": "2", "c": "3", "d": "4"},
	} {
		msg := AppendMeta(AppendRequest(nil, []byte("7"), "m", []byte(`{"x":1}`)), meta)
		m := Parse(msg)
		if m.Kind != KindRequest || string(m.Params) != `{"x":1}` {
			t.Fatalf("%s: parsed as %v", msg, m.Kind)
		}
		if got := DecodeMeta(m.Incoming.Meta); !reflect.DeepEqual(got, meta) {
			t.Errorf("%s: decoded %v, want %v", msg, got, meta)
		}
	}
	if got := AppendMeta([]byte(`{"a":1}`), nil); string(got) != `{"a":1}` {
		t.Errorf("no meta: %s", got)
	}
	for _, bad := range []string{``, `null`, `[]`, `{}`, `{"a":1}`, `{"a":"b",}`, `{"a":"b"`} {
		if got := DecodeMeta([]byte(bad)); got != nil {
			t.Errorf("DecodeMeta(%s) = %v, want nil", bad, got)
		}
	}
}

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
	for raw, want := range map[string]map[string]string{
		` { "traceparent" : "00-x" , "b":"" } `: {"traceparent": "00-x", "b": ""},
		`{"a":"\u0041","b":"c"}`:                {"a": "A", "b": "c"},
		`{"tracestate":"k=v"}`:                  {"tracestate": "k=v"},
	} {
		if got := DecodeMeta([]byte(raw)); !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeMeta(%s) = %v, want %v", raw, got, want)
		}
	}
	for _, bad := range []string{``, `null`, `[]`, `{}`, `{"a":1}`, `{"a":"b",}`, `{"a":"b"`, `{"a":"b"}x`, `{"a":"b","c":2}`, `{"a" "b"}`} {
		if got := DecodeMeta([]byte(bad)); got != nil {
			t.Errorf("DecodeMeta(%s) = %v, want nil", bad, got)
		}
	}
}

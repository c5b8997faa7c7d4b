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

// TestMetaValue: MetaValue and MetaKeys agree with DecodeMeta, on plain members (read in
// place), on escaped ones (decoded in full), on duplicates and on what is no metadata.
func TestMetaValue(t *testing.T) {
	for _, raw := range []string{
		`{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"a=b"}`,
		` { "traceparent" : "00-x" , "b":"" } `,
		`{"a":"\u0041","b":"c"}`,
		`{"a":"1","a":"2"}`,
		`{"k":"v","n":1}`,
		`{}`, `null`, `[]`, `"text"`, ``,
	} {
		want := DecodeMeta([]byte(raw))
		keys := MetaKeys([]byte(raw))
		if len(keys) != len(want) {
			t.Errorf("MetaKeys(%s) = %v, want the keys of %v", raw, keys, want)
		}
		for _, k := range append(keys, "traceparent", "tracestate", "a", "b", "absent") {
			v, ok := MetaValue([]byte(raw), k)
			if w, wok := want[k]; v != w || ok != wok {
				t.Errorf("MetaValue(%s, %q) = %q, %v; want %q, %v", raw, k, v, ok, w, wok)
			}
		}
	}
	raw := []byte(`{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`)
	if n := testing.AllocsPerRun(100, func() { _, _ = MetaValue(raw, "traceparent") }); n > 1 {
		t.Errorf("MetaValue of a plain member: %v allocations, want 1 (the value)", n)
	}
}

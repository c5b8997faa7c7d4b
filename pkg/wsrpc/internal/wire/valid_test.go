//go:build !js

package wire

import (
	"encoding/json"
	"github.com/mailru/easyjson/jwriter"
	"strings"
	"testing"
	"unicode/utf8"
)

// Valid is encoding/json.Valid for UTF-8 input, and false for anything else.
func TestValidMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		``, ` `, `{}`, `[]`, `""`, `"\u00e9\n"`, `"\x"`, `"\u12G4"`, `"a` + "\x01" + `"`, `0`, `-0`, `01`, `1.`, `.5`,
		`1e5`, `1E+5`, `1e`, `-`, `1.5e-3`, `true`, `tru`, `nul`, `null `, ` [1, 2 ,3 ] `, `[1,]`, `[,1]`,
		`{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":[{"b":null}]}`, `[1]]`, `{"a":1}x`, "\"\xff\xfe\"", `NaN`, `Infinity`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 9999) + strings.Repeat("]", 9999),
		`{"jsonrpc":"2.0","id":"9f1c0d2ab7e84e52a1f0c3d4e5f60718","method":"add","params":{"x":4,"y":5}}`,
	}
	for _, c := range cases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)) && utf8.ValidString(c); got != want {
			t.Errorf("Valid(%.60q) = %v, encoding/json and unicode/utf8 say %v", c, got, want)
		}
	}
}

// FuzzValid: Valid agrees with encoding/json.Valid on every input in UTF-8, and refuses
// every input that is not.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u0041",true,null]}`, `[`, `"\`, `-01`, `{"":{}}`, `1e+`, "\"\x7f\"", "\"\xff\"", "\"é€😀\"", "\"\xed\xa0\x80\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data) && utf8.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json and unicode/utf8 say %v", data, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	msg := []byte(`{"jsonrpc":"2.0","id":"9f1c0d2ab7e84e52a1f0c3d4e5f60718","method":"concat","params":{"a":"hello","b":" world"}}`)
	b.Run("wire", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Valid(msg)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			json.Valid(msg)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, msg := range []string{
		`{"jsonrpc":"2.0","id":"9f1c0d2ab7e84e52a1f0c3d4e5f60718","method":"concat","params":{"a":"hello","b":" world"}}`,
		`{"jsonrpc":"2.0","id":"9f1c0d2ab7e84e52a1f0c3d4e5f60718","result":"hello world"}`,
	} {
		data := []byte(msg)
		b.Run(map[bool]string{true: "request", false: "response"}[strings.Contains(msg, "method")], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if m := Parse(data); m.Kind == KindInvalid {
					b.Fatal(m.Reply.Message)
				}
			}
		})
	}
}

// AppendResult's direct path for large results writes what easyjson writes.
func TestAppendResultLarge(t *testing.T) {
	big := []byte(`"` + strings.Repeat("x", largeResult) + `"`)
	for _, id := range [][]byte{[]byte(`"abc"`), []byte(`7`), nil} {
		got := AppendResult(nil, id, big)
		w := jwriter.Writer{NoEscapeHTML: true}
		Result{JSONRPC: Version, ID: id, Result: big}.MarshalEasyJSON(&w)
		want, _ := w.BuildBytes()
		if string(got) != string(want) {
			t.Fatalf("id %s: direct %.80s... != easyjson %.80s...", id, got, want)
		}
	}
}

// AppendRequest's direct path for large params writes what easyjson writes.
func TestAppendRequestLarge(t *testing.T) {
	big := []byte(`["` + strings.Repeat("x", largeResult) + `"]`)
	for _, id := range [][]byte{[]byte(`"abc"`), nil} {
		got := AppendRequest(nil, id, "m\"é", big)
		w := jwriter.Writer{NoEscapeHTML: true}
		Request{JSONRPC: Version, ID: id, Method: "m\"é", Params: big}.MarshalEasyJSON(&w)
		want, _ := w.BuildBytes()
		if string(got) != string(want) {
			t.Fatalf("id %s: direct %.80s... != easyjson %.80s...", id, got, want)
		}
	}
}

// Valid reads strings eight bytes at a time: every byte value at every position of strings
// of every length up to 24, after plain and non-ASCII prefixes, gets encoding/json's answer.
func TestValidStringLanes(t *testing.T) {
	for _, prefix := range []string{"", "é", "a\\n"} {
		for n := 0; n <= 24; n++ {
			for pos := 0; pos < n; pos++ {
				for c := 0; c < 256; c++ {
					s := []byte(strings.Repeat("x", n))
					s[pos] = byte(c)
					for _, tail := range []string{`"`, `\u00e9"`, `é"`, "\xff\"", `\"`} {
						data := []byte(`"` + prefix + string(s) + tail)
						if got, want := Valid(data), json.Valid(data) && utf8.Valid(data); got != want {
							t.Fatalf("Valid(%q) = %v, encoding/json and unicode/utf8 say %v", data, got, want)
						}
					}
				}
			}
		}
	}
}

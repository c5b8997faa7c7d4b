//go:build !js

package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

func recordsPayload(size int) []byte {
	b := make([]byte, 0, size)
	b = append(b, '[')
	for i := 0; ; i++ {
		rec := fmt.Sprintf(`{"n":%d,"name":"item-%06d","tags":["alpha","beta"],"score":%d.%02d,"ok":true},`, i, i, i%1000, i%100)
		if len(b)+len(rec)+8 > size {
			break
		}
		b = append(b, rec...)
	}
	b = append(b, '"')
	b = append(b, bytes.Repeat([]byte("x"), size-len(b)-2)...)
	return append(b, '"', ']')
}

// BenchmarkValidLarge: 1 MiB of query-result-like records, and 1 MiB of one string (a
// base64 document), against encoding/json.Valid and a copy of the same bytes.
func BenchmarkValidLarge(b *testing.B) {
	p := recordsPayload(1 << 20)
	s := append(append([]byte(`["`), bytes.Repeat([]byte("x"), 1<<20)...), '"', ']')
	for _, c := range []struct {
		n string
		d []byte
	}{{"records", p}, {"string", s}} {
		b.Run(c.n+"/wire", func(b *testing.B) {
			b.SetBytes(int64(len(c.d)))
			for b.Loop() {
				if !Valid(c.d) {
					b.Fatal()
				}
			}
		})
		b.Run(c.n+"/json", func(b *testing.B) {
			b.SetBytes(int64(len(c.d)))
			for b.Loop() {
				json.Valid(c.d)
			}
		})
		b.Run(c.n+"/memmove", func(b *testing.B) {
			b.SetBytes(int64(len(c.d)))
			dst := make([]byte, len(c.d))
			for b.Loop() {
				copy(dst, c.d)
			}
		})
	}
}

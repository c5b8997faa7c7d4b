package wire

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Valid reports whether data is exactly one JSON value (with optional surrounding white
// space) in UTF-8 (RFC 8259 §8.1): it accepts what encoding/json.Valid accepts, less
// strings holding invalid UTF-8 (which encoding/json would replace with U+FFFD; FuzzValid
// checks this against encoding/json and unicode/utf8), at a fraction of its cost: every
// incoming message is validated before it is classified, so this is on the hot path.
func Valid(data []byte) bool {
	return validTop(data, nil)
}

// validTop is Valid; with in set, the top-level object's known members are also recorded.
func validTop(data []byte, in *Incoming) bool {
	i := skipSpace(data, 0)
	var ok bool
	if in != nil && i < len(data) && data[i] == '{' {
		i, ok = validObject(data, i, 1, in)
	} else {
		i, ok = validValue(data, i, 0)
	}
	if !ok {
		return false
	}
	return skipSpace(data, i) == len(data)
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

func skipSpace(d []byte, i int) int {
	if i < len(d) && d[i] > ' ' {
		return i // most JSON on the wire is compact
	}
	return skipSpaceSlow(d, i)
}

func skipSpaceSlow(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func validValue(d []byte, i, depth int) (int, bool) {
	if i >= len(d) {
		return i, false
	}
	switch c := d[i]; {
	case c == '"':
		return validString(d, i)
	case c == '{':
		return validObject(d, i, depth+1, nil)
	case c == '[':
		return validArray(d, i, depth+1)
	case c == 't':
		return validLiteral(d, i, "true")
	case c == 'f':
		return validLiteral(d, i, "false")
	case c == 'n':
		return validLiteral(d, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return validNumber(d, i)
	}
	return i, false
}

func validLiteral(d []byte, i int, lit string) (int, bool) {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// SWAR constants: one bit or byte in each of the eight lanes of a 64-bit word.
const (
	lanesLow  = 0x0101010101010101
	lanesHigh = 0x8080808080808080
)

// specialLanes flags (with the lane's high bit) the bytes of w, eight string bytes in
// little-endian order, that a string cannot hold as they are: the quote, the backslash,
// control characters and the bytes of multi-byte UTF-8. Lanes above the lowest flagged one
// may be flagged wrongly (a borrow); the lowest flagged lane is always right, and only it
// is used.
func specialLanes(w uint64) uint64 {
	q := w ^ (lanesLow * '"')
	b := w ^ (lanesLow * '\\')
	return ((q-lanesLow)&^q | (b-lanesLow)&^b | (w - lanesLow*0x20) | w) & lanesHigh
}

func validString(d []byte, i int) (int, bool) {
	i++ // opening quote
	for {
		// Runs of plain bytes, eight at a time (most of a large message).
		for i+8 <= len(d) {
			if m := specialLanes(binary.LittleEndian.Uint64(d[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(d) {
			return i, false
		}
		c := d[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(d) {
				return i, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(d)-i < 6 || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		case c < 0x20:
			return i, false
		case c < utf8.RuneSelf:
			i++ // the last bytes of the message, fewer than eight
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				return i, false
			}
			i += size
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func validNumber(d []byte, i int) (int, bool) {
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == start {
			return i, false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == start {
			return i, false
		}
	}
	return i, true
}

// validObject checks the object at d[i]; with in set, it also records the raw text of
// the members the protocol knows (see Incoming.member).
func validObject(d []byte, i, depth int, in *Incoming) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return i, false
		}
		var ok bool
		key := i
		if i, ok = validString(d, i); !ok {
			return i, false
		}
		keyEnd := i
		i = skipSpace(d, i)
		if i >= len(d) || d[i] != ':' {
			return i, false
		}
		i = skipSpace(d, i+1)
		val := i
		if i < len(d) && d[i] == '"' {
			i, ok = validString(d, i)
		} else {
			i, ok = validValue(d, i, depth)
		}
		if !ok {
			return i, false
		}
		if in != nil {
			in.member(d[key:keyEnd], d[val:i:i])
		}
		i = skipSpace(d, i)
		if i >= len(d) {
			return i, false
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

func validArray(d []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = validValue(d, i, depth); !ok {
			return i, false
		}
		i = skipSpace(d, i)
		if i >= len(d) {
			return i, false
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

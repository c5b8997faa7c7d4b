package wire

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/mailru/easyjson/jlexer"
)

// PyRepr renders a JSON value the way Python's repr() shows the decoded value, e.g.
// {"a": [1, true, null]} -> {'a': [1, True, None]}. It is used for the texts of error
// messages that Python peers produce with repr(), so that both report the same words.
func PyRepr(data []byte) string {
	var b strings.Builder
	lex := jlexer.Lexer{Data: data}
	pyRepr(&b, &lex)
	if lex.Error() != nil {
		return string(data)
	}
	return b.String()
}

// pyValue renders one member for a message such as "Invalid JSON-RPC version: X":
// Python formats the value with str(), so strings appear without quotes.
func pyValue(raw []byte) string {
	if raw == nil || isNull(raw) {
		return "None"
	}
	if s, ok := jsonString(raw); ok {
		return s
	}
	return PyRepr(raw)
}

func pyRepr(b *strings.Builder, lex *jlexer.Lexer) {
	switch {
	case lex.IsNull():
		lex.Skip()
		b.WriteString("None")
	case lex.IsDelim('{'):
		lex.Delim('{')
		b.WriteByte('{')
		first := true
		for !lex.IsDelim('}') && lex.Ok() {
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(pyQuote(lex.String()))
			lex.WantColon()
			b.WriteString(": ")
			pyRepr(b, lex)
			lex.WantComma()
		}
		lex.Delim('}')
		b.WriteByte('}')
	case lex.IsDelim('['):
		lex.Delim('[')
		b.WriteByte('[')
		first := true
		for !lex.IsDelim(']') && lex.Ok() {
			if !first {
				b.WriteString(", ")
			}
			first = false
			pyRepr(b, lex)
			lex.WantComma()
		}
		lex.Delim(']')
		b.WriteByte(']')
	default:
		raw := bytes.TrimSpace(lex.Raw())
		switch {
		case len(raw) > 0 && raw[0] == '"':
			s, _ := jsonString(raw)
			b.WriteString(pyQuote(s))
		case string(raw) == "true":
			b.WriteString("True")
		case string(raw) == "false":
			b.WriteString("False")
		default:
			b.Write(raw)
		}
	}
}

// pyQuote quotes a string like Python's repr(): single quotes unless the text contains a
// single quote and no double quote.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			h := strconv.FormatInt(int64(r), 16)
			if len(h) < 2 {
				b.WriteByte('0')
			}
			b.WriteString(h)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// PyStrJSON is Python's str() of a decoded JSON value: strings unquoted, everything else
// as repr().
func PyStrJSON(raw []byte) string { return pyValue(raw) }

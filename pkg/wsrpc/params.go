package wsrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/mailru/easyjson/jlexer"
)

// paramError is a failure to bind params; it answers -32602 with data
// {"type": kind, "method": name}. kind is "ValueError" for array-shape problems and
// "TypeError" for argument problems, as the Python reference reports them.
//
// detail names only the method and JSON parameters; debug, when set, adds what Go said
// (type and field names), which the peer sees only with Config.Debug.
type paramError struct {
	kind, method, detail string
	debug                string
}

func (e *paramError) Error() string {
	if e.debug != "" {
		return "Invalid parameters: " + e.detail + " (" + e.debug + ")"
	}
	return "Invalid parameters: " + e.detail
}

// rpcError is the -32602 reply; with debug it carries the Go detail too.
func (e *paramError) rpcError(debug bool) *Error {
	data, _ := json.Marshal(map[string]string{"type": e.kind, "method": e.method})
	msg := "Invalid parameters: " + e.detail
	if debug && e.debug != "" {
		msg = e.Error()
	}
	return &Error{Code: CodeInvalidParams, Message: msg, Data: data}
}

// decodeFailure describes err, a failure to decode JSON into a Go value, in JSON terms:
// what was expected and what came, at which JSON path (below prefix, "" for the top),
// never Go type or field names; the Go text goes to paramError.debug.
func decodeFailure(kind, method, prefix string, err error) *paramError {
	pe := &paramError{kind: kind, method: method, debug: err.Error()}
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		at := prefix
		if te.Field != "" {
			if at != "" {
				at += "."
			}
			at += te.Field
		}
		pe.detail = fmt.Sprintf("expected %s, got %s", jsonKind(te.Type), te.Value)
		if at != "" {
			pe.detail = fmt.Sprintf("argument '%s': %s", at, pe.detail)
		}
	case errors.As(err, &se):
		pe.detail = "malformed JSON"
	default:
		pe.detail = "invalid value"
		if prefix != "" {
			pe.detail = fmt.Sprintf("argument '%s': invalid value", prefix)
		}
	}
	return pe
}

// jsonKind names the JSON shape a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a value"
}

type paramField struct {
	name      string
	index     int
	required  bool
	namedOnly bool
}

// paramPlan says how to bind params to a Go type; built once per type.
type paramPlan struct {
	t        reflect.Type
	isStruct bool
	fields   []paramField
	byName   map[string]int // exact name -> position in fields
	byFold   map[string]int // lower-cased name -> position, for untagged fields
	required int
	kwOnly   []string
}

var plans sync.Map // reflect.Type -> *paramPlan

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
)

func planFor(t reflect.Type) *paramPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*paramPlan)
	}
	p := &paramPlan{t: t}
	if t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		p.isStruct = true
		p.byName = map[string]int{}
		p.byFold = map[string]int{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			tagged := name != ""
			if !tagged {
				name = f.Name
			}
			pf := paramField{name: name, index: i, required: true}
			if f.Type.Kind() == reflect.Pointer || strings.Contains(","+opts+",", ",omitempty,") ||
				strings.Contains(","+opts+",", ",omitzero,") {
				pf.required = false
			}
			for _, w := range strings.Split(f.Tag.Get("wsrpc"), ",") {
				switch strings.TrimSpace(w) {
				case "optional":
					pf.required = false
				case "named":
					pf.namedOnly = true
					p.kwOnly = append(p.kwOnly, name)
				}
			}
			if pf.required {
				p.required++
			}
			p.byName[name] = len(p.fields)
			if !tagged {
				p.byFold[strings.ToLower(name)] = len(p.fields)
			}
			p.fields = append(p.fields, pf)
		}
	}
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*paramPlan)
}

// bind decodes raw params (object, array or nil) into dst, a settable value of p.t. ctx is
// the handler's (see keepable).
func (p *paramPlan) bind(ctx context.Context, method string, raw []byte, dst reflect.Value) error {
	if !p.isStruct {
		if raw == nil {
			return nil
		}
		if p.t == rawMessageType {
			// Already validated with the message: no decoding, and a copy only when the
			// params are a small part of the message.
			dst.SetBytes(keepable(ctx, raw))
			return nil
		}
		if err := json.Unmarshal(raw, dst.Addr().Interface()); err != nil {
			return decodeFailure("TypeError", method, "", err)
		}
		return nil
	}
	set := make([]bool, len(p.fields))
	if raw != nil {
		lex := jlexer.Lexer{Data: raw}
		if lex.IsDelim('[') {
			if err := p.bindArray(method, &lex, dst, set); err != nil {
				return err
			}
		} else if err := p.bindObject(method, &lex, dst, set); err != nil {
			return err
		}
	}
	var missing []string
	for i, f := range p.fields {
		if f.required && !set[i] {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		s := "s"
		if len(missing) == 1 {
			s = ""
		}
		return &paramError{kind: "TypeError", method: method, detail: fmt.Sprintf(
			"%s() missing %d required positional argument%s: %s", method, len(missing), s, pyList(missing))}
	}
	return nil
}

func (p *paramPlan) bindArray(method string, lex *jlexer.Lexer, dst reflect.Value, set []bool) error {
	var elems [][]byte
	lex.Delim('[')
	for !lex.IsDelim(']') && lex.Ok() {
		elems = append(elems, lex.Raw())
		lex.WantComma()
	}
	lex.Delim(']')
	if err := lex.Error(); err != nil {
		return &paramError{kind: "ValueError", method: method, detail: "malformed array", debug: err.Error()}
	}
	switch {
	case len(p.kwOnly) > 0:
		return &paramError{kind: "ValueError", method: method, detail: fmt.Sprintf(
			"Method '%s' has keyword-only parameters %s and cannot be called with positional parameters. Use named parameters instead.",
			method, pyListBrackets(p.kwOnly))}
	case len(elems) > len(p.fields):
		return &paramError{kind: "ValueError", method: method, detail: fmt.Sprintf(
			"Too many positional arguments for method '%s': expected at most %d, got %d", method, len(p.fields), len(elems))}
	case len(elems) < p.required:
		return &paramError{kind: "ValueError", method: method, detail: fmt.Sprintf(
			"Too few positional arguments for method '%s': expected at least %d, got %d", method, p.required, len(elems))}
	}
	for i, e := range elems {
		if err := p.setField(method, dst, i, e); err != nil {
			return err
		}
		set[i] = true
	}
	return nil
}

func (p *paramPlan) bindObject(method string, lex *jlexer.Lexer, dst reflect.Value, set []bool) error {
	lex.Delim('{')
	for !lex.IsDelim('}') && lex.Ok() {
		key := lex.String()
		lex.WantColon()
		val := lex.Raw()
		lex.WantComma()
		if !lex.Ok() {
			break
		}
		i, ok := p.byName[key]
		if !ok {
			i, ok = p.byFold[strings.ToLower(key)]
		}
		if !ok {
			return &paramError{kind: "TypeError", method: method, detail: fmt.Sprintf(
				"%s() got an unexpected keyword argument '%s'", method, key)}
		}
		if err := p.setField(method, dst, i, val); err != nil {
			return err
		}
		set[i] = true
	}
	lex.Delim('}')
	if err := lex.Error(); err != nil {
		return &paramError{kind: "TypeError", method: method, detail: "malformed object", debug: err.Error()}
	}
	return nil
}

func (p *paramPlan) setField(method string, dst reflect.Value, i int, raw []byte) error {
	f := p.fields[i]
	fv := dst.Field(f.index)
	if decodeScalar(raw, fv) {
		return nil
	}
	if err := json.Unmarshal(raw, fv.Addr().Interface()); err != nil {
		return decodeFailure("TypeError", method, f.name, err)
	}
	return nil
}

// pyList formats names like Python's missing-argument message: 'a', 'a' and 'b', 'a', 'b', and 'c'.
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	switch len(q) {
	case 1:
		return q[0]
	case 2:
		return q[0] + " and " + q[1]
	}
	return strings.Join(q[:len(q)-1], ", ") + ", and " + q[len(q)-1]
}

func pyListBrackets(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

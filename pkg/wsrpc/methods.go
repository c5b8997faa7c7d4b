package wsrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/wsrpc/wsrpc/pkg/wsrpc/internal/wire"
)

// HandlerFunc is a raw method handler. params is the params member exactly as the peer sent
// it (a JSON object, a JSON array, or nil when absent or null), in memory of its own. The result is encoded with
// encoding/json (or easyjson when it implements easyjson.Marshaler); a json.RawMessage
// result is validated and sent as is — unless it is params itself (same memory, same
// length), which were validated with their message and are sent without another pass; a
// ValidJSON result is sent as is.
//
// Returning an *Error answers with exactly that error. Returning ErrNoResponse sends
// nothing. Any other error answers -32603 (its text is disclosed only with Config.Debug).
// A panic is recovered and answered like an error.
type HandlerFunc func(ctx context.Context, params json.RawMessage) (any, error)

// MethodOption configures one registered method.
type MethodOption func(*method)

// StringifyResult makes the method send its result the way an un-annotated Python handler
// does: any non-string value is replaced by Python's str() of it (123 -> "123",
// true -> "True", nil -> "None", {"a":1} -> "{'a': 1}").
func StringifyResult() MethodOption { return func(m *method) { m.stringify = true } }

// LegacyResultType sets the result_type the legacy dialect reports with the method's
// results, as Python reports the handler's declared return type (e.g. "ProcessDetails").
// By default it is derived from the JSON value ("str", "int", "dict", ...). Names containing
// a quote, a backslash or a control character are ignored.
func LegacyResultType(name string) MethodOption {
	return func(m *method) {
		if !strings.ContainsAny(name, "\"\\") && strings.IndexFunc(name, unicode.IsControl) < 0 {
			m.resultType = name
		}
	}
}

type method struct {
	name       string
	invoke     func(ctx context.Context, params []byte) (any, error)
	stringify  bool
	resultType string // legacy result_type; "" = derived from the value
	// encoded, when set (typed handlers), runs the method and appends its encoded result
	// to dst; it is used unless the result must be stringified.
	encoded func(ctx context.Context, params, dst []byte) ([]byte, error)
}

// Methods is a set of named methods the other side of a connection may call. It is safe
// for concurrent use; methods may be added and removed while connections are live.
// Every set also answers the built-ins "ping" (-> "pong") and "_get_channel_id_".
type Methods struct {
	mu sync.RWMutex
	m  map[string]*method
}

// NewMethods returns an empty method set.
func NewMethods() *Methods { return &Methods{m: make(map[string]*method)} }

// Handle registers a raw handler under name, replacing any method of that name.
func (ms *Methods) Handle(name string, fn HandlerFunc, opts ...MethodOption) {
	ms.add(name, func(ctx context.Context, params []byte) (any, error) {
		// The handler may keep params: they must not keep a much larger message alive.
		p := keepable(ctx, params)
		r, err := fn(ctx, p)
		if rr, ok := r.(json.RawMessage); ok && err == nil && sameBytes(p, rr) {
			return ValidJSON(rr), nil // the params, validated with their message, sent back
		}
		return r, err
	}, opts)
}

// Register registers a typed handler. Params are bound to P as PROTOCOL.md §5 says:
//
//   - P a struct: its exported fields are the method's named parameters, in declaration
//     order, named by their json tag (or field name). A JSON object binds members to fields
//     by name (an unknown name or a missing required field is -32602); a JSON array binds
//     element i to field i. A field is optional when it is a pointer or its json tag says
//     omitempty, or its tag wsrpc:"optional"; a tag wsrpc:"named" makes it keyword-only
//     (the method then refuses array params).
//   - any other P (a slice, map, json.RawMessage, a type with its own UnmarshalJSON):
//     params are decoded into it with encoding/json.
//
// Absent or null params leave P at its zero value (required fields are then missing).
func Register[P, R any](ms *Methods, name string, fn func(ctx context.Context, params P) (R, error), opts ...MethodOption) {
	plan := planFor(reflect.TypeFor[P]())
	pool := &sync.Pool{New: func() any { return new(P) }}
	ms.add(name, func(ctx context.Context, raw []byte) (any, error) {
		var p P
		if err := plan.bind(ctx, name, raw, reflect.ValueOf(&p).Elem()); err != nil {
			return nil, err
		}
		return fn(ctx, p)
	}, append(opts, func(m *method) {
		// The hot path: bind, call and encode the result into dst, without boxing R.
		m.encoded = func(ctx context.Context, raw, dst []byte) ([]byte, error) {
			// Params are bound through reflection into a pooled P (a fresh one would be
			// heap-allocated on every call); the handler gets a copy.
			pp := pool.Get().(*P)
			var zero P
			*pp = zero
			err := plan.bind(ctx, name, raw, reflect.ValueOf(pp).Elem())
			p := *pp
			*pp = zero
			pool.Put(pp)
			if err != nil {
				return nil, err
			}
			r, err := fn(ctx, p)
			if err != nil {
				return nil, err
			}
			if echoed(p, r) { // the params, validated with their message, sent back
				return append(dst, any(r).(json.RawMessage)...), nil
			}
			out, err := appendJSON(dst, &r)
			if err != nil {
				return nil, errEncodeResult{err}
			}
			return out, nil
		}
	}))
}

// echoed reports whether a json.RawMessage result is exactly the json.RawMessage params
// the handler was given (same bytes in memory), which need no validation.
func echoed[P, R any](p P, r R) bool {
	pr, ok := any(p).(json.RawMessage)
	if !ok {
		return false
	}
	rr, ok := any(r).(json.RawMessage)
	return ok && sameBytes(pr, rr)
}

// sameBytes reports whether a and b are the same non-empty bytes in memory.
func sameBytes(a, b []byte) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}

// RegisterValue registers the exported methods of v whose signature is one of
//
//	func(ctx context.Context, p P) (R, error)
//	func(ctx context.Context) (R, error)
//	func(ctx context.Context, p P) error
//	func(ctx context.Context) error
//
// under the name given in names (keyed by Go method name) or else the snake_case form of
// the Go name (GetProcessDetails -> get_process_details). P binds as in Register. Methods of
// other shapes are skipped; naming one of them, or a missing one, in names is an error.
func (ms *Methods) RegisterValue(v any, names map[string]string, opts ...MethodOption) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return fmt.Errorf("wsrpc: RegisterValue: nil value")
	}
	seen := map[string]bool{}
	t := rv.Type()
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		fn := rv.Method(i)
		name, explicit := names[m.Name]
		if !explicit {
			name = SnakeCase(m.Name)
		}
		inv, ok := valueInvoker(fn, name)
		if !ok {
			continue
		}
		seen[m.Name] = true
		ms.add(name, inv, opts)
	}
	for goName := range names {
		if !seen[goName] {
			return fmt.Errorf("wsrpc: RegisterValue: %T has no method %s with a supported signature", v, goName)
		}
	}
	return nil
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

func valueInvoker(fn reflect.Value, name string) (func(context.Context, []byte) (any, error), bool) {
	ft := fn.Type()
	if ft.NumIn() < 1 || ft.NumIn() > 2 || ft.In(0) != ctxType || ft.IsVariadic() {
		return nil, false
	}
	if ft.NumOut() < 1 || ft.NumOut() > 2 || ft.Out(ft.NumOut()-1) != errorType {
		return nil, false
	}
	var plan *paramPlan
	if ft.NumIn() == 2 {
		plan = planFor(ft.In(1))
	} else {
		plan = planFor(reflect.TypeFor[struct{}]())
	}
	return func(ctx context.Context, raw []byte) (any, error) {
		args := []reflect.Value{reflect.ValueOf(ctx)}
		if ft.NumIn() == 2 {
			p := reflect.New(ft.In(1)).Elem()
			if err := plan.bind(ctx, name, raw, p); err != nil {
				return nil, err
			}
			args = append(args, p)
		} else if err := plan.bind(ctx, name, raw, reflect.New(plan.t).Elem()); err != nil {
			return nil, err
		}
		out := fn.Call(args)
		errV := out[len(out)-1]
		var err error
		if !errV.IsNil() {
			err = errV.Interface().(error)
		}
		if len(out) == 2 {
			return out[0].Interface(), err
		}
		return nil, err
	}, true
}

func (ms *Methods) add(name string, inv func(context.Context, []byte) (any, error), opts []MethodOption) {
	m := &method{name: name, invoke: inv}
	for _, o := range opts {
		o(m)
	}
	ms.mu.Lock()
	ms.m[name] = m
	ms.mu.Unlock()
}

// Remove unregisters name and reports whether it was registered.
func (ms *Methods) Remove(name string) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	_, ok := ms.m[name]
	delete(ms.m, name)
	return ok
}

// Names returns the registered method names, sorted (built-ins not included).
func (ms *Methods) Names() []string {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	names := make([]string, 0, len(ms.m))
	for n := range ms.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (ms *Methods) lookup(name string) *method {
	if ms == nil {
		return nil
	}
	ms.mu.RLock()
	m := ms.m[name]
	ms.mu.RUnlock()
	return m
}

// SnakeCase converts a Go identifier to snake_case: GetProcessDetails -> get_process_details,
// HTTPServer -> http_server.
func SnakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// encodeResult encodes a handler's result for the result member.
func encodeResult(v any, stringify bool) ([]byte, error) {
	if stringify {
		if _, isString := v.(string); !isString {
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			return json.Marshal(PyStr(raw))
		}
	}
	switch r := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if len(r) == 0 {
			return nil, nil
		}
		if !wire.Valid(r) {
			return nil, fmt.Errorf("result is not valid JSON")
		}
		return r, nil
	case ValidJSON:
		if len(r) == 0 {
			return nil, nil
		}
		return r, nil
	}
	return marshal(v)
}

package main

/*
#define WSRPC_NO_PROTOTYPES 1
#include <stdint.h>
#include <stdlib.h>
#include "wsrpc.h"

void wsrpc__call_log(uintptr_t fn, uintptr_t user, int level, const char *message,
                     const char *attrs_json);
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"unsafe"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Logging. Every object gets a *slog.Logger whose handler filters at the object's level
// (the "log_level" option, else $WSRPC_LOG, else warn) and then hands the record to the
// process-wide C log handler (wsrpc_set_log_handler) or, when none is set, to stderr.

// logSink is the C log handler; the read lock is held while it runs, so that
// wsrpc_set_log_handler can wait until no call of the previous handler is running.
var logSink struct {
	sync.RWMutex
	fn, user C.uintptr_t
}

// logOwner marks the log handler's thread (wsrpc__cb_owner) while it runs: replacing the
// handler from inside it would wait for itself.
const logOwner = ^uintptr(0)

//export wsrpc_set_log_handler
func wsrpc_set_log_handler(fn, user C.uintptr_t) (st C.int) {
	defer guard(nil, &st)
	if inOwnCallback(logOwner) {
		return stState
	}
	logSink.Lock()
	logSink.fn, logSink.user = fn, user
	logSink.Unlock()
	return stOK
}

// stderrHandler is the fallback output; levels are filtered by cHandler.
var stderrHandler slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})

// cHandler is the slog.Handler of every logger the library makes.
type cHandler struct {
	level  slog.Level
	text   slog.Handler // stderrHandler with the same attrs and groups
	attrs  []slog.Attr  // WithAttrs, already qualified by the groups open at the time
	groups []string
}

func newLogger(level slog.Level) *slog.Logger {
	return slog.New(&cHandler{level: level, text: stderrHandler})
}

func (h *cHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *cHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.text = h.text.WithAttrs(as)
	n.attrs = append(append([]slog.Attr{}, h.attrs...), qualify(h.groups, as)...)
	return &n
}

func (h *cHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.text = h.text.WithGroup(name)
	n.groups = append(append([]string{}, h.groups...), name)
	return &n
}

// qualify nests attrs inside the open groups.
func qualify(groups []string, as []slog.Attr) []slog.Attr {
	if len(groups) == 0 || len(as) == 0 {
		return as
	}
	out := slog.Attr{Key: groups[len(groups)-1], Value: slog.GroupValue(as...)}
	for i := len(groups) - 2; i >= 0; i-- {
		out = slog.Attr{Key: groups[i], Value: slog.GroupValue(out)}
	}
	return []slog.Attr{out}
}

func (h *cHandler) Handle(ctx context.Context, r slog.Record) error {
	logSink.RLock()
	defer logSink.RUnlock()
	if logSink.fn == 0 {
		return h.text.Handle(ctx, r)
	}
	var rec []slog.Attr
	r.Attrs(func(a slog.Attr) bool { rec = append(rec, a); return true })
	attrs := map[string]any{}
	addAttrs(attrs, h.attrs)
	addAttrs(attrs, qualify(h.groups, rec))
	data, err := json.Marshal(attrs)
	if err != nil {
		data = []byte("{}")
	}
	msg, js := cstr(r.Message), cbytes(data)
	defer C.free(unsafe.Pointer(msg))
	defer C.free(unsafe.Pointer(js))
	C.wsrpc__call_log(logSink.fn, logSink.user, C.int(r.Level), msg, js)
	return nil
}

// addAttrs puts attrs into m as JSON-friendly values (groups become objects; errors and
// other values that do not marshal become their text).
func addAttrs(m map[string]any, as []slog.Attr) {
	for _, a := range as {
		v := a.Value.Resolve()
		if a.Key == "" && v.Kind() != slog.KindGroup {
			continue
		}
		switch v.Kind() {
		case slog.KindGroup:
			sub, ok := m[a.Key].(map[string]any)
			if a.Key == "" {
				sub, ok = m, true
			}
			if !ok {
				sub = map[string]any{}
				m[a.Key] = sub
			}
			addAttrs(sub, v.Group())
		case slog.KindString:
			m[a.Key] = v.String()
		case slog.KindInt64:
			m[a.Key] = v.Int64()
		case slog.KindUint64:
			m[a.Key] = v.Uint64()
		case slog.KindFloat64:
			m[a.Key] = v.Float64()
		case slog.KindBool:
			m[a.Key] = v.Bool()
		case slog.KindDuration:
			m[a.Key] = v.Duration().Seconds() // seconds, as every duration of the options
		case slog.KindTime:
			m[a.Key] = v.Time().Format("2006-01-02T15:04:05.000000Z07:00")
		default:
			x := v.Any()
			switch t := x.(type) {
			case error:
				m[a.Key] = t.Error()
			case fmt.Stringer:
				m[a.Key] = t.String()
			default:
				if _, err := json.Marshal(x); err != nil {
					m[a.Key] = fmt.Sprint(x)
				} else {
					m[a.Key] = x
				}
			}
		}
	}
}

// envLevel is the level named by $WSRPC_LOG (read once), warn when unset or unknown.
var envLevel = sync.OnceValue(func() slog.Level {
	level, err := wsrpc.ParseLogLevel(os.Getenv("WSRPC_LOG"))
	if err != nil {
		return slog.LevelWarn
	}
	return level
})

// logger is the library's own logger (C API failures), at $WSRPC_LOG's level.
var logger = sync.OnceValue(func() *slog.Logger { return newLogger(envLevel()) })

// optionsExtra reads what wsrpc.ParseConfig (which has validated options) does not tell:
// the "log_level" member's level, or $WSRPC_LOG's, and whether "spin_wait" was given.
func optionsExtra(text []byte) (level slog.Level, spinWait bool) {
	var o struct {
		LogLevel *string         `json:"log_level"`
		SpinWait json.RawMessage `json:"spin_wait"`
	}
	level = envLevel()
	if json.Unmarshal(text, &o) == nil {
		if o.LogLevel != nil {
			if l, err := wsrpc.ParseLogLevel(*o.LogLevel); err == nil {
				level = l
			}
		}
		spinWait = o.SpinWait != nil && string(o.SpinWait) != "null"
	}
	return level, spinWait
}

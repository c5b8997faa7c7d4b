// Command capi is the C API of wsrpc, built with
//
//	go build -buildmode=c-shared -o build/libwsrpc.so ./capi
//
// The public header is the hand-written include/wsrpc.h (not the one cgo generates). This
// package only translates: C strings and callbacks to Go values and back, handles to
// objects, errors to status codes. Behaviour lives in pkg/wsrpc.
//
// Handles are small integers from a registry (never Go pointers, never reused), so a
// closed or bogus handle is reported instead of crashing. C callbacks run through the
// trampolines in wsrpc.c; each object counts its running callbacks (gate) so that close
// can wait for them and none starts afterwards.
package main

/*
#define WSRPC_NO_PROTOTYPES 1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wsrpc.h"

uintptr_t wsrpc__cb_owner(void);
void wsrpc__call_method(uintptr_t fn, uintptr_t user, uintptr_t owner, const char *channel_id,
                        const char *params, uintptr_t reply);
void wsrpc__call_event(uintptr_t fn, uintptr_t user, uintptr_t owner, int kind,
                       const char *channel_id, int attempt, int delay_ms, int status,
                       const char *message);
void wsrpc__call_done(uintptr_t fn, uintptr_t user, uintptr_t owner, int status,
                      const char *result, int rpc_code, char *message, char *data);
#cgo CFLAGS: -I${SRCDIR}/include
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

func main() {}

// version is wsrpc.Version as a C string, allocated once and never freed.
var version = C.CString(wsrpc.Version)

//export wsrpc_version
func wsrpc_version() *C.char { return version }

// Status codes of wsrpc.h (wsrpc_status).
const (
	stOK          = C.WSRPC_OK
	stInvalidArg  = C.WSRPC_ERR_INVALID_ARG
	stClosed      = C.WSRPC_ERR_CLOSED
	stLost        = C.WSRPC_ERR_CONNECTION_LOST
	stNotConn     = C.WSRPC_ERR_NOT_CONNECTED
	stTimeout     = C.WSRPC_ERR_TIMEOUT
	stRemote      = C.WSRPC_ERR_REMOTE
	stBackpress   = C.WSRPC_ERR_BACKPRESSURE
	stTooLarge    = C.WSRPC_ERR_MESSAGE_TOO_LARGE
	stConnect     = C.WSRPC_ERR_CONNECT
	stInvalidID   = C.WSRPC_ERR_INVALID_ID
	stInternal    = C.WSRPC_ERR_INTERNAL
	stListen      = C.WSRPC_ERR_LISTEN
	stNotFound    = C.WSRPC_ERR_NOT_FOUND
	stState       = C.WSRPC_ERR_STATE
	stBatchUnsup  = C.WSRPC_ERR_BATCH_UNSUPPORTED
	stCanceled    = C.WSRPC_ERR_CANCELED
	stUnspecified = -1 // classify the error with wsrpc.KindOf
)

// The C status codes use wsrpc.ErrorKind's numbers for the kinds they share, up to
// KindOther.
var kindStatus = map[wsrpc.ErrorKind]C.int{
	wsrpc.KindNone:            stOK,
	wsrpc.KindInvalidArgument: stInvalidArg,
	wsrpc.KindClosed:          stClosed,
	wsrpc.KindConnectionLost:  stLost,
	wsrpc.KindNotConnected:    stNotConn,
	wsrpc.KindTimeout:         stTimeout,
	wsrpc.KindRemote:          stRemote,
	wsrpc.KindBackpressure:    stBackpress,
	wsrpc.KindMessageTooLarge: stTooLarge,
	wsrpc.KindConnect:         stConnect,
	wsrpc.KindInvalidID:       stInvalidID,
	wsrpc.KindOther:           stInternal,

	wsrpc.KindBatchUnsupported: stBatchUnsup,
}

func statusOf(err error) C.int {
	if st, ok := kindStatus[wsrpc.KindOf(err)]; ok {
		return st
	}
	return stInternal
}

// failure is an error with the C status it reports.
type failure struct {
	status C.int
	err    error
}

func fail(status C.int, format string, args ...any) *failure {
	return &failure{status: status, err: fmt.Errorf("wsrpc: "+format, args...)}
}

// failed wraps an error from pkg/wsrpc; status stUnspecified classifies it.
func failed(status C.int, err error) *failure {
	if status == stUnspecified {
		status = statusOf(err)
	}
	return &failure{status: status, err: err}
}

// report writes f into *out (when out is not NULL) and returns its status.
func report(f *failure, out *C.wsrpc_error) C.int {
	if f == nil {
		return stOK
	}
	if out != nil {
		fillError(out, f.status, f.err)
	}
	return f.status
}

// fillError sets *out from err; the strings are malloc'd for the caller.
func fillError(out *C.wsrpc_error, status C.int, err error) {
	out.status = status
	out.rpc_code = 0
	out.data_json = nil
	msg := "wsrpc: unknown error"
	if err != nil {
		msg = err.Error()
	}
	if re := wsrpc.RemoteError(err); re != nil && status == stRemote {
		out.rpc_code = C.int(re.Code)
		msg = re.Message
		if len(re.Data) > 0 {
			out.data_json = cbytes(re.Data)
		}
	}
	out.message = cstr(msg)
}

// cstr returns a malloc'd copy of s (JSON and messages never contain NUL; any would cut).
func cstr(s string) *C.char { return C.CString(s) }

// cbytes returns a malloc'd, NUL-terminated copy of b: one copy (cstr(string(b)) is two).
func cbytes(b []byte) *C.char {
	p := (*byte)(C.malloc(C.size_t(len(b) + 1)))
	dst := unsafe.Slice(p, len(b)+1)
	copy(dst, b)
	dst[len(b)] = 0
	return (*C.char)(unsafe.Pointer(p))
}

// cview returns the bytes of the C string p without copying them (nil for NULL): valid
// only while the C caller's string is, i.e. during the call; whatever is kept must be
// copied (RawParams and RawResult copy what they return).
func cview(p *C.char) []byte {
	if p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), C.strlen(p))
}

// gostr copies a C string (NULL -> "", ok=false).
func gostr(p *C.char) (string, bool) {
	if p == nil {
		return "", false
	}
	return C.GoString(p), true
}

// guard turns a panic in an exported function into WSRPC_ERR_INTERNAL instead of a crash.
func guard(out *C.wsrpc_error, status *C.int) {
	if r := recover(); r != nil {
		logger().Error("wsrpc: C API panic", "panic", r, "stack", string(debug.Stack()))
		*status = report(fail(stInternal, "internal error: %v", r), out)
	}
}

// ---- handles ---------------------------------------------------------------------

var (
	nextID  atomic.Uint64
	regMu   sync.Mutex
	clients = map[uintptr]*client{}
	servers = map[uintptr]*server{}
)

func newHandle() uintptr { return uintptr(nextID.Add(1)) }

func lookupClient(h C.uintptr_t) (*client, *failure) {
	if h == 0 {
		return nil, fail(stInvalidArg, "client is NULL")
	}
	regMu.Lock()
	defer regMu.Unlock()
	c := clients[uintptr(h)]
	if c == nil {
		return nil, fail(stClosed, "client is closed (or not a client handle)")
	}
	return c, nil
}

func lookupServer(h C.uintptr_t) (*server, *failure) {
	if h == 0 {
		return nil, fail(stInvalidArg, "server is NULL")
	}
	regMu.Lock()
	defer regMu.Unlock()
	s := servers[uintptr(h)]
	if s == nil {
		return nil, fail(stClosed, "server is closed (or not a server handle)")
	}
	return s, nil
}

// inOwnCallback reports whether the calling thread is inside a callback of object id.
func inOwnCallback(id uintptr) bool { return uintptr(C.wsrpc__cb_owner()) == id }

// ---- gate: running callbacks of one object ----------------------------------------

// gate counts the C callbacks of one object that are running, so close can wait for
// them; after closing starts no method callback starts, after drain no callback at all.
type gate struct {
	mu       sync.Mutex
	idle     *sync.Cond
	running  int
	closing  bool
	released bool
}

func newGate() *gate {
	g := &gate{}
	g.idle = sync.NewCond(&g.mu)
	return g
}

// enter admits a callback; whileClosing admits it during close (events, completions).
func (g *gate) enter(whileClosing bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released || (g.closing && !whileClosing) {
		return false
	}
	g.running++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	g.running--
	if g.running == 0 {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

func (g *gate) startClosing() {
	g.mu.Lock()
	g.closing = true
	g.mu.Unlock()
}

// drain waits until no callback runs and admits none after that.
func (g *gate) drain() {
	g.mu.Lock()
	for g.running > 0 {
		g.idle.Wait()
	}
	g.released = true
	g.mu.Unlock()
}

// ---- callbacks -------------------------------------------------------------------

// cEvent is an event callback set by the user. Callback pointers and user data are kept
// as integers: user data may be any value, which the garbage collector must not see as a
// pointer.
type cEvent struct {
	fn, user C.uintptr_t
}

// eventSink forwards wsrpc.Events of one object to its current C event callback.
func eventSink(owner uintptr, g *gate, cb *atomic.Pointer[cEvent]) func(wsrpc.Event) {
	return func(ev wsrpc.Event) {
		h := cb.Load()
		if h == nil || !g.enter(true) {
			return
		}
		defer g.leave()
		var chID, msg *C.char
		if ev.ChannelID != "" {
			chID = cstr(ev.ChannelID)
			defer C.free(unsafe.Pointer(chID))
		}
		status := C.int(stOK)
		if ev.Err != nil {
			status = statusOf(ev.Err)
			msg = cstr(ev.Err.Error())
			defer C.free(unsafe.Pointer(msg))
		}
		C.wsrpc__call_event(h.fn, h.user, C.uintptr_t(owner), C.int(ev.Kind), chID,
			C.int(ev.Attempt), C.int(ev.Delay/time.Millisecond), status, msg)
	}
}

// reply collects a method callback's answer (wsrpc_reply_*).
type reply struct {
	ctx    context.Context // the request's: cancelled by the peer, a closed connection, close
	mu     sync.Mutex
	done   bool
	result json.RawMessage
	err    error
}

var replies sync.Map // handle -> *reply

// methodHandler adapts a C method callback to a wsrpc.HandlerFunc.
// register adds a C method callback to methods (shared by the client and server exports).
func register(methods *wsrpc.Methods, owner uintptr, g *gate, method *C.char, fn, user C.uintptr_t) *failure {
	name, ok := gostr(method)
	switch {
	case !ok || name == "":
		return fail(stInvalidArg, "method name is NULL or empty")
	case fn == 0:
		return fail(stInvalidArg, "method callback is NULL")
	}
	methods.Handle(name, methodHandler(owner, g, fn, user))
	return nil
}

func methodHandler(owner uintptr, g *gate, fn, user C.uintptr_t) wsrpc.HandlerFunc {
	return func(ctx context.Context, params json.RawMessage) (any, error) {
		if !g.enter(false) {
			return nil, wsrpc.ErrClosed
		}
		defer g.leave()
		chID := ""
		if ch := wsrpc.ChannelFromContext(ctx); ch != nil {
			chID = ch.ID()
		}
		if len(params) == 0 {
			params = json.RawMessage("null")
		}
		cChan, cParams := cstr(chID), cbytes(params)
		defer C.free(unsafe.Pointer(cChan))
		defer C.free(unsafe.Pointer(cParams))
		r := &reply{ctx: ctx}
		rid := newHandle()
		replies.Store(rid, r)
		C.wsrpc__call_method(fn, user, C.uintptr_t(owner), cChan, cParams, C.uintptr_t(rid))
		replies.Delete(rid)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.done = true
		if r.err != nil {
			return nil, r.err
		}
		if r.result == nil {
			return json.RawMessage("null"), nil
		}
		return r.result, nil
	}
}

// done delivers the outcome of an async call to its C completion callback.
func done(owner uintptr, fn, user C.uintptr_t, result json.RawMessage, f *failure) {
	if f != nil {
		var e C.wsrpc_error
		fillError(&e, f.status, f.err)
		C.wsrpc__call_done(fn, user, C.uintptr_t(owner), e.status, nil, e.rpc_code, e.message, e.data_json)
		C.free(unsafe.Pointer(e.message))
		C.free(unsafe.Pointer(e.data_json))
		return
	}
	if len(result) == 0 {
		result = json.RawMessage("null") // (a connect)
	}
	cres := cbytes(result)
	C.wsrpc__call_done(fn, user, C.uintptr_t(owner), stOK, cres, 0, nil, nil)
	C.free(unsafe.Pointer(cres))
}

// ---- shared argument handling ------------------------------------------------------

type callArgs struct {
	method  string
	params  json.RawMessage
	timeout time.Duration // timeout_ms (0: none given)
	ctx     context.Context
	cancel  context.CancelFunc
}

// Whether clientCall, serverCall and parseCall make the call's context (a.ctx, with
// timeout_ms): queued calls make do without one (see enqueue).
const (
	withCtx = true
	noCtx   = false
)

// clientCall resolves what every call and notification through a client starts with: its
// handle, the method and params, and the current connection. On success the caller owns
// a (a.cancel when done).
func clientCall(h C.uintptr_t, method, params *C.char, timeoutMS C.int, mkCtx bool) (*client, *wsrpc.Client, *callArgs, *failure) {
	cl, f := lookupClient(h)
	if f != nil {
		return nil, nil, nil, f
	}
	a, f := parseCall(method, params, timeoutMS, mkCtx)
	if f != nil {
		return nil, nil, nil, f
	}
	conn, f := cl.current()
	if f != nil {
		a.cancel()
		return nil, nil, nil, f
	}
	return cl, conn, a, nil
}

// serverCall is clientCall for a server and one of its connections.
func serverCall(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, mkCtx bool) (*server, *wsrpc.Channel, *callArgs, *failure) {
	s, f := lookupServer(h)
	if f != nil {
		return nil, nil, nil, f
	}
	a, f := parseCall(method, params, timeoutMS, mkCtx)
	if f != nil {
		return nil, nil, nil, f
	}
	ch, f := s.channel(chanID)
	if f != nil {
		a.cancel()
		return nil, nil, nil, f
	}
	return s, ch, a, nil
}

// parseCall validates the arguments common to calls and notifications.
func parseCall(method, params *C.char, timeoutMS C.int, mkCtx bool) (*callArgs, *failure) {
	name, raw, f := parseRequest(method, params)
	if f != nil {
		return nil, f
	}
	if timeoutMS < 0 {
		return nil, fail(stInvalidArg, "timeout_ms must be >= 0, got %d", int(timeoutMS))
	}
	a := &callArgs{method: name, params: raw, timeout: time.Duration(timeoutMS) * time.Millisecond}
	if mkCtx {
		a.ctx, a.cancel = deadline(timeoutMS)
	} else {
		a.ctx, a.cancel = context.Background(), func() {}
	}
	return a, nil
}

// parseRequest validates a method name and its params.
func parseRequest(method, params *C.char) (string, json.RawMessage, *failure) {
	name, ok := gostr(method)
	if !ok || name == "" {
		return "", nil, fail(stInvalidArg, "method name is NULL or empty")
	}
	raw, err := wsrpc.RawParams(cview(params)) // one copy: C's params are read in place
	if err != nil {
		return "", nil, failed(stInvalidArg, err)
	}
	return name, raw, nil
}

// deadline is the context of a call with timeout_ms (> 0; 0: none).
func deadline(timeoutMS C.int) (context.Context, context.CancelFunc) {
	if timeoutMS > 0 {
		return context.WithTimeout(context.Background(), time.Duration(timeoutMS)*time.Millisecond)
	}
	return context.WithCancel(context.Background())
}

// caller is what both a wsrpc.Client and a wsrpc.Channel offer.
type caller interface {
	Call(ctx context.Context, method string, params any, result any, opts ...wsrpc.CallOption) error
	Notify(ctx context.Context, method string, params any) error
}

func syncCall(c caller, a *callArgs, result **C.char) *failure {
	defer a.cancel()
	var out json.RawMessage
	if err := c.Call(a.ctx, a.method, a.params, &out); err != nil {
		return failed(stUnspecified, err)
	}
	if result != nil {
		*result = cbytes(out)
	}
	return nil
}

// asyncCall runs the call on its own goroutine; the gate keeps close waiting for done.
func asyncCall(owner uintptr, g *gate, c caller, a *callArgs, fn, user C.uintptr_t) *failure {
	if !g.enter(false) {
		a.cancel()
		return fail(stClosed, "closed")
	}
	go func() {
		defer g.leave()
		defer a.cancel()
		var out json.RawMessage
		var f *failure
		if err := c.Call(a.ctx, a.method, a.params, &out); err != nil {
			f = failed(stUnspecified, err)
		}
		done(owner, fn, user, out, f)
	}()
	return nil
}

// statsOut writes a Stats snapshot as JSON into *out (when out is not NULL).
func statsOut(s wsrpc.Stats, out **C.char) *failure {
	text, err := json.Marshal(s)
	if err != nil {
		return failed(stInternal, err)
	}
	if out != nil {
		*out = cbytes(text)
	}
	return nil
}

func parseOptions(options *C.char) (wsrpc.Config, *failure) {
	return configOf(bytes.Clone(cview(options))) // small; ParseConfig keeps nothing of it, but cheap to be sure
}

// configOf is the Config of a client's or server's JSON options (see parseOptions).
func configOf(text []byte) (wsrpc.Config, *failure) {
	cfg, err := wsrpc.ParseConfig(text)
	if err != nil {
		return cfg, failed(stInvalidArg, err)
	}
	lv, spin := optionsExtra(text)
	cfg.Logger = newLogger(lv)
	if !spin {
		cfg.SpinWait = blockingSpinWait
	}
	return cfg, nil
}

// blockingSpinWait is the C and Python default of Config.SpinWait (the "spin_wait" option;
// Go's default is 0). A call from a C thread (or from Python through ctypes) waits in Go on
// a thread locked to that C thread: an answer that finds it asleep must hand it a P and wake
// it, a thread wake-up more than a goroutine waiting for the same answer pays (about 40 us of
// a 95 us round trip to a server on the same host, measured in make bench section 2). A lone
// call therefore busy-waits up to this long for its answer first; the core stops doing so on
// a connection whose lone answers take longer on average (a remote or slow server), and when
// other calls are outstanding. "spin_wait": 0 turns it off.
const blockingSpinWait = 200 * time.Microsecond

package main

/*
#define WSRPC_NO_PROTOTYPES 1
#include <stdint.h>
#include <stdlib.h>
#include "wsrpc.h"

typedef struct wsrpc__waiter wsrpc__waiter;
wsrpc__waiter *wsrpc__waiter_new(void);
void wsrpc__waiter_ref(wsrpc__waiter *w);
void wsrpc__waiter_unref(wsrpc__waiter *w);
void wsrpc__waiter_signal(wsrpc__waiter *w);
*/
import "C"

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Pending calls (wsrpc_*_call_start, wsrpc_client_connect_start, wsrpc_call_wait,
// wsrpc_call_release): the caller waits for a call in slices of its choosing, so that a
// thread that must stay responsive (to signals, say) never blocks in the library for long.
// The waits themselves are in C (wsrpc.c), and so are the blocking wsrpc_client_call and
// wsrpc_server_call: start, wait until signaled, collect.

const stPending = C.WSRPC_PENDING

// waiter is what both a wsrpc.Client and a wsrpc.Channel offer for pending calls.
type waiter interface {
	GoWaited(ctx context.Context, method string, params any, opts ...wsrpc.CallOption) (*wsrpc.Pending, error)
}

// pendingCall is the object behind a wsrpc_call handle: a call (p), or a connect (dialed).
// Waiting threads wait on w, a C waiter (wsrpc.c), which the call signals when it ends.
type pendingCall struct {
	w *C.wsrpc__waiter

	mu   sync.Mutex
	over bool // collected or released: w may be gone, signal nothing

	// a call
	p      *wsrpc.Pending
	ctx    context.Context // the call's deadline (timeout_ms or default_response_timeout)
	cancel context.CancelFunc
	stop   func() bool // stops the deadline's signal

	// a connect (wsrpc_client_connect_start): dialed is closed when it has ended, with dialErr
	dialed  chan struct{}
	dialErr *failure
}

var calls sync.Map // handle -> *pendingCall

// signal wakes the threads waiting for the call (none after it is over).
func (pc *pendingCall) signal() {
	pc.mu.Lock()
	if !pc.over {
		C.wsrpc__waiter_signal(pc.w)
	}
	pc.mu.Unlock()
}

// end drops the call's own reference to its waiter; after it no signal is sent.
func (pc *pendingCall) end() {
	pc.mu.Lock()
	pc.over = true
	pc.mu.Unlock()
	C.wsrpc__waiter_unref(pc.w)
}

// waiterRef returns w with a reference for a waiting thread, unless the call is over.
func (pc *pendingCall) waiterRef() *C.wsrpc__waiter {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.over {
		return nil
	}
	C.wsrpc__waiter_ref(pc.w)
	return pc.w
}

// startCall sends a.method on c and stores the pending call's handle into *out (and, when
// w is not NULL, its waiter, with a reference for the caller, into *w). No goroutine: the
// answer (Pending.AfterDone) or the call's deadline (context.AfterFunc) signals the waiter.
func startCall(c waiter, a *callArgs, defaultTimeout time.Duration, out *C.uintptr_t, w **C.wsrpc__waiter) *failure {
	a.defaultTimeout(defaultTimeout)
	cw := C.wsrpc__waiter_new()
	if cw == nil {
		a.cancel()
		return fail(stInternal, "out of memory")
	}
	p, err := c.GoWaited(a.ctx, a.method, a.params)
	if err != nil {
		C.wsrpc__waiter_unref(cw)
		a.cancel()
		return failed(stUnspecified, err)
	}
	pc := &pendingCall{w: cw, p: p, ctx: a.ctx, cancel: a.cancel}
	if w != nil {
		C.wsrpc__waiter_ref(cw)
		*w = cw
	}
	h := newHandle()
	calls.Store(h, pc)
	*out = C.uintptr_t(h)
	pc.stop = context.AfterFunc(a.ctx, pc.signal)
	p.AfterDone(pc.signal)
	return nil
}

// defaultTimeout gives the call the deadline d (default_response_timeout) unless it has one.
func (a *callArgs) defaultTimeout(d time.Duration) {
	if _, ok := a.ctx.Deadline(); !ok && d > 0 {
		cancel := a.cancel
		ctx, cancelT := context.WithTimeout(a.ctx, d)
		a.ctx, a.cancel = ctx, func() { cancelT(); cancel() }
	}
}

//export wsrpc_client_call_start
func wsrpc_client_call_start(h C.uintptr_t, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	return wsrpc__client_call_begin(h, method, params, timeoutMS, out, nil, errOut)
}

// wsrpc__client_call_begin is wsrpc_client_call_start that also hands out the waiter
// (wsrpc_client_call in wsrpc.c waits on it).
//
//export wsrpc__client_call_begin
func wsrpc__client_call_begin(h C.uintptr_t, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, w **C.wsrpc__waiter, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if out == nil {
		return report(fail(stInvalidArg, "call is NULL (the out pointer for the pending call)"), errOut)
	}
	*out = 0
	cl, conn, a, f := clientCall(h, method, params, timeoutMS, withCtx)
	if f != nil {
		return report(f, errOut)
	}
	return report(startCall(conn, a, cl.cfg.DefaultTimeout, out, w), errOut)
}

//export wsrpc_server_call_start
func wsrpc_server_call_start(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	return wsrpc__server_call_begin(h, chanID, method, params, timeoutMS, out, nil, errOut)
}

// wsrpc__server_call_begin is wsrpc__client_call_begin for a server.
//
//export wsrpc__server_call_begin
func wsrpc__server_call_begin(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, w **C.wsrpc__waiter, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if out == nil {
		return report(fail(stInvalidArg, "call is NULL (the out pointer for the pending call)"), errOut)
	}
	*out = 0
	s, ch, a, f := serverCall(h, chanID, method, params, timeoutMS, withCtx)
	if f != nil {
		return report(f, errOut)
	}
	return report(startCall(ch, a, s.cfg.DefaultTimeout, out, w), errOut)
}

// wsrpc__call_waiter gives wsrpc_call_wait (wsrpc.c) the call's waiter, with a reference.
//
//export wsrpc__call_waiter
func wsrpc__call_waiter(h C.uintptr_t, w **C.wsrpc__waiter, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if h == 0 {
		return report(fail(stInvalidArg, "call is NULL"), errOut)
	}
	v, ok := calls.Load(uintptr(h))
	if ok {
		*w = v.(*pendingCall).waiterRef()
	}
	if !ok || *w == nil {
		return report(fail(stClosed, "call is already finished or released (or not a call handle)"), errOut)
	}
	return stOK
}

// wsrpc__call_collect takes the outcome of a call whose waiter was signaled.
//
//export wsrpc__call_collect
func wsrpc__call_collect(h C.uintptr_t, result **C.char, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	v, mine := calls.LoadAndDelete(uintptr(h))
	if !mine {
		// another thread's wait took the outcome first, or the call was released
		return report(fail(stClosed, "call is already finished or released"), errOut)
	}
	pc := v.(*pendingCall)
	pc.end()
	if pc.p == nil { // a connect
		<-pc.dialed
		return report(pc.dialErr, errOut)
	}
	pc.stop()
	defer pc.cancel()
	var out json.RawMessage
	if err := pc.p.Wait(pc.ctx, &out); err != nil { // returns at once: answered or expired
		return report(failed(stUnspecified, err), errOut)
	}
	if result != nil {
		*result = cstr(string(out))
	}
	return stOK
}

//export wsrpc_call_release
func wsrpc_call_release(h C.uintptr_t) (st C.int) {
	defer guard(nil, &st)
	if h == 0 {
		return stInvalidArg
	}
	v, ok := calls.LoadAndDelete(uintptr(h))
	if !ok {
		return stClosed
	}
	pc := v.(*pendingCall)
	pc.signal() // other threads waiting for it: it is gone (WSRPC_ERR_CLOSED)
	pc.end()
	if pc.p == nil { // a connect: stop it, and wait until it has
		pc.cancel()
		<-pc.dialed
		return stOK
	}
	pc.stop()
	pc.cancel()
	_ = pc.p.Wait(pc.ctx, nil) // the context is cancelled: forgets the call and returns
	return stOK
}

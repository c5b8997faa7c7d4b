package main

/*
#define WSRPC_NO_PROTOTYPES 1
#include <stdint.h>
#include <stdlib.h>
#include "wsrpc.h"
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
//
// The waits block in Go, not in C: a thread that returns to C keeps the Go scheduler's P
// it held (in the syscall state) until the runtime's monitor takes it back, after 20 µs to
// 10 ms; C threads sleeping in C with the few Ps there are would stall the connection's
// reader and every other caller that long. A goroutine that blocks gives its P back at once.

const stPending = C.WSRPC_PENDING

// waiter is what both a wsrpc.Client and a wsrpc.Channel offer for pending calls.
type waiter interface {
	GoWaited(ctx context.Context, method string, params any, opts ...wsrpc.CallOption) (*wsrpc.Pending, error)
}

// pendingCall is the object behind a wsrpc_call handle: a call (p) or a connect (dialed).
type pendingCall struct {
	ctx    context.Context // the call's deadline (timeout_ms or default_response_timeout)
	cancel context.CancelFunc

	// a call
	p *wsrpc.Pending

	// a connect (wsrpc_client_connect_start): dialed is closed when it has ended, with dialErr
	dialed  chan struct{}
	dialErr *failure
}

// done is closed when the call has its outcome.
func (pc *pendingCall) done() <-chan struct{} {
	if pc.p == nil {
		return pc.dialed
	}
	return pc.p.Done()
}

var calls sync.Map // handle -> *pendingCall

// defaultTimeout gives the call the deadline d (default_response_timeout) unless it has one.
func (a *callArgs) defaultTimeout(d time.Duration) {
	if _, ok := a.ctx.Deadline(); !ok && d > 0 {
		cancel := a.cancel
		ctx, cancelT := context.WithTimeout(a.ctx, d)
		a.ctx, a.cancel = ctx, func() { cancelT(); cancel() }
	}
}

// startCall sends a.method on c and stores the pending call's handle into *out. No
// goroutine: the waits select on the answer, the call's deadline and the wait's own slice.
func startCall(c waiter, a *callArgs, defaultTimeout time.Duration, out *C.uintptr_t) *failure {
	a.defaultTimeout(defaultTimeout)
	p, err := c.GoWaited(a.ctx, a.method, a.params)
	if err != nil {
		a.cancel()
		return failed(stUnspecified, err)
	}
	h := newHandle()
	calls.Store(h, &pendingCall{p: p, ctx: a.ctx, cancel: a.cancel})
	*out = C.uintptr_t(h)
	return nil
}

//export wsrpc_client_call_start
func wsrpc_client_call_start(h C.uintptr_t, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if out == nil {
		return report(fail(stInvalidArg, "call is NULL (the out pointer for the pending call)"), errOut)
	}
	*out = 0
	cl, conn, a, f := clientCall(h, method, params, timeoutMS, withCtx)
	if f != nil {
		return report(f, errOut)
	}
	return report(startCall(conn, a, cl.cfg.DefaultTimeout, out), errOut)
}

//export wsrpc_server_call_start
func wsrpc_server_call_start(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if out == nil {
		return report(fail(stInvalidArg, "call is NULL (the out pointer for the pending call)"), errOut)
	}
	*out = 0
	s, ch, a, f := serverCall(h, chanID, method, params, timeoutMS, withCtx)
	if f != nil {
		return report(f, errOut)
	}
	return report(startCall(ch, a, s.cfg.DefaultTimeout, out), errOut)
}

//export wsrpc_call_wait
func wsrpc_call_wait(h C.uintptr_t, waitMS C.int, result **C.char, errOut *C.wsrpc_error) (st C.int) {
	if result != nil {
		*result = nil
	}
	defer guard(errOut, &st)
	if h == 0 {
		return report(fail(stInvalidArg, "call is NULL"), errOut)
	}
	v, ok := calls.Load(uintptr(h))
	if !ok {
		return report(fail(stClosed, "call is already finished or released (or not a call handle)"), errOut)
	}
	pc := v.(*pendingCall)
	done, expired := pc.done(), pc.ctx.Done()
	if pc.p == nil {
		expired = nil // a connect ends by itself at its deadline
	}
	switch {
	case waitMS < 0:
		select {
		case <-done:
		case <-expired:
		}
	default:
		select {
		case <-done:
		case <-expired:
		default:
			if waitMS == 0 {
				return stPending
			}
			t := time.NewTimer(time.Duration(waitMS) * time.Millisecond)
			defer t.Stop()
			select {
			case <-done:
			case <-expired:
			case <-t.C:
				return stPending
			}
		}
	}
	if _, mine := calls.LoadAndDelete(uintptr(h)); !mine {
		// another thread's wait took the outcome first, or the call was released
		return report(fail(stClosed, "call is already finished or released"), errOut)
	}
	if pc.p == nil { // a connect
		return report(pc.dialErr, errOut)
	}
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
	pc.cancel()
	if pc.p == nil { // a connect: wait until it has stopped
		<-pc.dialed
		return stOK
	}
	_ = pc.p.Wait(pc.ctx, nil) // the context is cancelled: forgets the call and returns
	return stOK
}

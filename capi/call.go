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
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Pending calls (wsrpc_*_call_start, wsrpc_call_wait, wsrpc_call_release): a call runs on
// a goroutine of its own and the caller waits for it in slices of its choosing, so that a
// thread that must stay responsive (to signals, say) never blocks in the library for long.

const stPending = C.WSRPC_PENDING

// waiter is what both a wsrpc.Client and a wsrpc.Channel offer for pending calls.
type waiter interface {
	GoWaited(ctx context.Context, method string, params any, opts ...wsrpc.CallOption) (*wsrpc.Pending, error)
}

type pendingCall struct {
	p        *wsrpc.Pending  // nil for a wsrpc_*_call_async_cancelable call (its goroutine waits)
	ctx      context.Context // the call's deadline (timeout_ms or default_response_timeout)
	cancel   context.CancelFunc
	owner    uintptr // the client or server, for its done callback (wsrpc_call_on_done)
	gate     *gate
	canceled atomic.Bool // wsrpc_call_cancel or wsrpc_call_release gave it up
	notified atomic.Bool // its outcome goes to a done callback (wsrpc_call_on_done)

	once   sync.Once
	result json.RawMessage
	err    error
}

// settle takes the call's outcome from the core, once. Called when the call has been
// answered or its context has ended, so Pending.Wait returns at once; when the context
// ended first, Wait forgets the call and, on a connection to a wsrpc peer that agreed to
// the extensions, asks the peer to cancel the method's handler ($/cancelRequest).
func (pc *pendingCall) settle() {
	pc.once.Do(func() {
		pc.err = pc.p.Wait(pc.ctx, &pc.result)
		pc.cancel()
	})
}

// outcome settles the call and returns its result or failure (WSRPC_ERR_CANCELED for a
// call given up by wsrpc_call_cancel before it ended).
func (pc *pendingCall) outcome() (json.RawMessage, *failure) {
	pc.settle()
	if pc.err != nil {
		return nil, pc.failure(pc.err)
	}
	return pc.result, nil
}

// failure reports the call's error: WSRPC_ERR_CANCELED when it was given up by
// wsrpc_call_cancel before it ended.
func (pc *pendingCall) failure(err error) *failure {
	if pc.canceled.Load() && errors.Is(err, context.Canceled) {
		return failed(stCanceled, fmt.Errorf("wsrpc: canceled: %w", err))
	}
	return failed(stUnspecified, err)
}

// giveUp cancels the call's context and settles it: the peer is told (see settle). A call
// with a done callback is settled by its goroutine, which the context's end wakes.
func (pc *pendingCall) giveUp() {
	pc.canceled.Store(true)
	pc.cancel()
	if !pc.notified.Load() {
		pc.settle()
	}
}

// deliver waits for the call (started) to end, releases its handle h and calls its done
// callback; on the goroutine of a call with a done callback, holding a place in its gate.
func (pc *pendingCall) deliver(h uintptr, fn, user C.uintptr_t) {
	defer pc.gate.leave()
	select {
	case <-pc.p.Done():
	case <-pc.ctx.Done():
	}
	calls.Delete(h)
	out, f := pc.outcome()
	done(pc.owner, fn, user, out, f)
}

// calls holds the pending calls by handle. A plain map: every handle is new and short-lived,
// the pattern sync.Map is slowest at.
var calls = callTable{m: map[uintptr]*pendingCall{}}

type callTable struct {
	mu sync.Mutex
	m  map[uintptr]*pendingCall
}

func (t *callTable) Store(h uintptr, pc *pendingCall) {
	t.mu.Lock()
	t.m[h] = pc
	t.mu.Unlock()
}

func (t *callTable) Load(h uintptr) (*pendingCall, bool) {
	t.mu.Lock()
	pc, ok := t.m[h]
	t.mu.Unlock()
	return pc, ok
}

func (t *callTable) Delete(h uintptr) { t.LoadAndDelete(h) }

// LoadAndDelete removes h and reports whether this caller removed it.
func (t *callTable) LoadAndDelete(h uintptr) (*pendingCall, bool) {
	t.mu.Lock()
	pc, ok := t.m[h]
	delete(t.m, h)
	t.mu.Unlock()
	return pc, ok
}

// startCall sends a.method on c and stores the pending call's handle into *out. No
// goroutine: the waits select on the answer, the call's deadline and the wait's own slice.
func startCall(owner uintptr, g *gate, c waiter, a *callArgs, defaultTimeout time.Duration, out *C.uintptr_t) *failure {
	a.withDefault(defaultTimeout)
	p, err := c.GoWaited(a.ctx, a.method, a.params)
	if err != nil {
		a.cancel()
		return failed(stUnspecified, err)
	}
	h := newHandle()
	calls.Store(h, &pendingCall{p: p, ctx: a.ctx, cancel: a.cancel, owner: owner, gate: g})
	*out = C.uintptr_t(h)
	return nil
}

// withDefault gives a call without a deadline the owner's default_response_timeout.
func (a *callArgs) withDefault(d time.Duration) {
	if _, ok := a.ctx.Deadline(); !ok && d > 0 {
		cancel := a.cancel
		ctx, cancelT := context.WithTimeout(a.ctx, d)
		a.ctx, a.cancel = ctx, func() { cancelT(); cancel() }
	}
}

// startCancelable is asyncCall with a pending-call handle in *out for wsrpc_call_cancel,
// which cancels the call's context: the call's goroutine then gives it up as any caller
// whose context ends (the peer is told).
func startCancelable(owner uintptr, g *gate, c caller, a *callArgs, defaultTimeout time.Duration, fn, user C.uintptr_t, out *C.uintptr_t) *failure {
	if !g.enter(false) {
		a.cancel()
		return fail(stClosed, "closed")
	}
	a.withDefault(defaultTimeout)
	pc := &pendingCall{ctx: a.ctx, cancel: a.cancel, owner: owner, gate: g}
	pc.notified.Store(true)
	h := newHandle()
	calls.Store(h, pc)
	*out = C.uintptr_t(h)
	go func() {
		defer g.leave()
		var result json.RawMessage
		err := c.Call(pc.ctx, a.method, a.params, &result)
		calls.Delete(h)
		pc.cancel()
		var f *failure
		if err != nil {
			f = pc.failure(err)
		}
		done(owner, fn, user, result, f)
	}()
	return nil
}

//export wsrpc_client_call_async_cancelable
func wsrpc_client_call_async_cancelable(h C.uintptr_t, method, params *C.char, timeoutMS C.int, fn, user C.uintptr_t, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if f := asyncArgs(fn, out); f != nil {
		return report(f, errOut)
	}
	cl, conn, a, f := clientCall(h, method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	return report(startCancelable(cl.id, cl.gate, conn, a, cl.cfg.DefaultTimeout, fn, user, out), errOut)
}

//export wsrpc_server_call_async_cancelable
func wsrpc_server_call_async_cancelable(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, fn, user C.uintptr_t, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if f := asyncArgs(fn, out); f != nil {
		return report(f, errOut)
	}
	s, ch, a, f := serverCall(h, chanID, method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	return report(startCancelable(s.id, s.gate, ch, a, s.cfg.DefaultTimeout, fn, user, out), errOut)
}

// asyncArgs checks the done callback and the out pointer of the cancelable async calls.
func asyncArgs(fn C.uintptr_t, out *C.uintptr_t) *failure {
	if out == nil {
		return fail(stInvalidArg, "call is NULL (the out pointer for the pending call)")
	}
	*out = 0
	if fn == 0 {
		return fail(stInvalidArg, "completion callback is NULL")
	}
	return nil
}

// lookupCall finds a pending call by handle.
func lookupCall(h C.uintptr_t) (*pendingCall, *failure) {
	if h == 0 {
		return nil, fail(stInvalidArg, "call is NULL")
	}
	pc, ok := calls.Load(uintptr(h))
	if !ok {
		return nil, fail(stClosed, "call is already finished or released (or not a call handle)")
	}
	return pc, nil
}

//export wsrpc_client_call_start
func wsrpc_client_call_start(h C.uintptr_t, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if out == nil {
		return report(fail(stInvalidArg, "call is NULL (the out pointer for the pending call)"), errOut)
	}
	*out = 0
	cl, conn, a, f := clientCall(h, method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	return report(startCall(cl.id, cl.gate, conn, a, cl.cfg.DefaultTimeout, out), errOut)
}

//export wsrpc_server_call_start
func wsrpc_server_call_start(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if out == nil {
		return report(fail(stInvalidArg, "call is NULL (the out pointer for the pending call)"), errOut)
	}
	*out = 0
	s, ch, a, f := serverCall(h, chanID, method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	return report(startCall(s.id, s.gate, ch, a, s.cfg.DefaultTimeout, out), errOut)
}

//export wsrpc_call_wait
func wsrpc_call_wait(h C.uintptr_t, waitMS C.int, result **C.char, errOut *C.wsrpc_error) (st C.int) {
	if result != nil {
		*result = nil
	}
	defer guard(errOut, &st)
	pc, f := lookupCall(h)
	if f != nil {
		return report(f, errOut)
	}
	if pc.notified.Load() {
		return report(fail(stState, "the call's outcome goes to its done callback (wsrpc_call_on_done)"), errOut)
	}
	done, expired := pc.p.Done(), pc.ctx.Done()
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
		// another thread's wait took the outcome first
		return report(fail(stClosed, "call is already finished or released"), errOut)
	}
	out, f := pc.outcome()
	if f != nil {
		return report(f, errOut)
	}
	if result != nil {
		*result = cstr(string(out))
	}
	return stOK
}

//export wsrpc_call_cancel
func wsrpc_call_cancel(h C.uintptr_t) (st C.int) {
	defer guard(nil, &st)
	pc, f := lookupCall(h)
	if f != nil {
		return f.status
	}
	pc.giveUp()
	return stOK
}

//export wsrpc_call_on_done
func wsrpc_call_on_done(h C.uintptr_t, fn, user C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if fn == 0 {
		return report(fail(stInvalidArg, "completion callback is NULL"), errOut)
	}
	pc, f := lookupCall(h)
	if f != nil {
		return report(f, errOut)
	}
	if !pc.notified.CompareAndSwap(false, true) {
		return report(fail(stState, "the call has a done callback already"), errOut)
	}
	if !pc.gate.enter(false) {
		pc.notified.Store(false)
		return report(fail(stClosed, "closed"), errOut)
	}
	go pc.deliver(uintptr(h), fn, user)
	return stOK
}

//export wsrpc_call_release
func wsrpc_call_release(h C.uintptr_t) (st C.int) {
	defer guard(nil, &st)
	pc, f := lookupCall(h)
	if f != nil {
		return f.status
	}
	if pc.notified.Load() { // the done callback ends it
		pc.giveUp()
		return stOK
	}
	if _, mine := calls.LoadAndDelete(uintptr(h)); !mine {
		return stClosed
	}
	pc.giveUp()
	return stOK
}

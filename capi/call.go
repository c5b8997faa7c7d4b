package main

/*
#define WSRPC_NO_PROTOTYPES 1
#include <stdint.h>
#include <stdlib.h>
#include "wsrpc.h"
*/
import "C"

import (
	"encoding/json"
	"sync"
	"time"
)

// Pending calls (wsrpc_*_call_start, wsrpc_call_wait, wsrpc_call_release): a call runs on
// a goroutine of its own and the caller waits for it in slices of its choosing, so that a
// thread that must stay responsive (to signals, say) never blocks in the library for long.

const stPending = C.WSRPC_PENDING

type pendingCall struct {
	done   chan struct{}
	out    json.RawMessage
	err    error
	cancel func()
}

var calls sync.Map // handle -> *pendingCall

// startCall starts a.method on c and stores its handle into *out.
func startCall(c caller, a *callArgs, out *C.uintptr_t) *failure {
	p := &pendingCall{done: make(chan struct{}), cancel: a.cancel}
	h := newHandle()
	calls.Store(h, p)
	go func() {
		defer a.cancel()
		p.err = c.Call(a.ctx, a.method, a.params, &p.out)
		close(p.done)
	}()
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
	cl, f := lookupClient(h)
	if f != nil {
		return report(f, errOut)
	}
	a, f := parseCall(method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	conn, f := cl.current()
	if f != nil {
		a.cancel()
		return report(f, errOut)
	}
	return report(startCall(conn, a, out), errOut)
}

//export wsrpc_server_call_start
func wsrpc_server_call_start(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, out *C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if out == nil {
		return report(fail(stInvalidArg, "call is NULL (the out pointer for the pending call)"), errOut)
	}
	*out = 0
	s, f := lookupServer(h)
	if f != nil {
		return report(f, errOut)
	}
	a, f := parseCall(method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	ch, f := s.channel(chanID)
	if f != nil {
		a.cancel()
		return report(f, errOut)
	}
	return report(startCall(ch, a, out), errOut)
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
	p := v.(*pendingCall)
	switch {
	case waitMS < 0:
		<-p.done
	case waitMS == 0:
		select {
		case <-p.done:
		default:
			return stPending
		}
	default:
		select {
		case <-p.done:
		default:
			t := time.NewTimer(time.Duration(waitMS) * time.Millisecond)
			select {
			case <-p.done:
				t.Stop()
			case <-t.C:
				return stPending
			}
		}
	}
	if _, mine := calls.LoadAndDelete(uintptr(h)); !mine {
		// another thread's wait took the outcome first
		return report(fail(stClosed, "call is already finished or released"), errOut)
	}
	if p.err != nil {
		return report(failed(stUnspecified, p.err), errOut)
	}
	if result != nil {
		*result = cstr(string(p.out))
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
	v.(*pendingCall).cancel()
	return stOK
}

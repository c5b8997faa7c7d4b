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
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// client is the object behind a wsrpc_client handle.
type client struct {
	id      uintptr
	cfg     wsrpc.Config
	methods *wsrpc.Methods
	gate    *gate
	event   atomic.Pointer[cEvent]

	mu         sync.Mutex
	conn       *wsrpc.Client // nil until connected
	connecting bool
	cancelDial context.CancelFunc
	closed     bool
}

// current returns the connected wsrpc.Client.
func (cl *client) current() (*wsrpc.Client, *failure) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.closed {
		return nil, fail(stClosed, "client is closed")
	}
	if cl.conn == nil {
		return nil, failed(stNotConn, wsrpc.ErrNotConnected)
	}
	return cl.conn, nil
}

//export wsrpc_client_new
func wsrpc_client_new(options *C.char, errOut *C.wsrpc_error) (h C.uintptr_t) {
	var st C.int
	defer guard(errOut, &st)
	cfg, f := parseOptions(options)
	if f != nil {
		report(f, errOut)
		return 0
	}
	cl := &client{id: newHandle(), cfg: cfg, methods: wsrpc.NewMethods(), gate: newGate()}
	regMu.Lock()
	clients[cl.id] = cl
	regMu.Unlock()
	return C.uintptr_t(cl.id)
}

//export wsrpc_client_register
func wsrpc_client_register(h C.uintptr_t, method *C.char, fn, user C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	cl, f := lookupClient(h)
	if f != nil {
		return report(f, errOut)
	}
	return report(register(cl.methods, cl.id, cl.gate, method, fn, user), errOut)
}

//export wsrpc_client_on_event
func wsrpc_client_on_event(h C.uintptr_t, fn, user C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	cl, f := lookupClient(h)
	if f != nil {
		return report(f, errOut)
	}
	if fn == 0 {
		cl.event.Store(nil)
	} else {
		cl.event.Store(&cEvent{fn: fn, user: user})
	}
	return stOK
}

//export wsrpc_client_connect
func wsrpc_client_connect(h C.uintptr_t, url *C.char, timeoutMS C.int, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	cl, f := lookupClient(h)
	if f != nil {
		return report(f, errOut)
	}
	u, ok := gostr(url)
	switch {
	case !ok || u == "":
		return report(fail(stInvalidArg, "url is NULL or empty"), errOut)
	case timeoutMS < 0:
		return report(fail(stInvalidArg, "timeout_ms must be >= 0, got %d", int(timeoutMS)), errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if timeoutMS > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), time.Duration(timeoutMS)*time.Millisecond)
	}
	defer cancel()
	cl.mu.Lock()
	switch {
	case cl.closed:
		cl.mu.Unlock()
		return report(fail(stClosed, "client is closed"), errOut)
	case cl.conn != nil:
		cl.mu.Unlock()
		return report(fail(stState, "client is already connected"), errOut)
	case cl.connecting:
		cl.mu.Unlock()
		return report(fail(stState, "client is already connecting"), errOut)
	}
	cl.connecting = true
	cl.cancelDial = cancel
	cl.mu.Unlock()

	conn, err := wsrpc.Dial(ctx, u, wsrpc.WithConfig(cl.cfg), wsrpc.WithMethods(cl.methods),
		wsrpc.WithEvents(eventSink(cl.id, cl.gate, &cl.event)))

	cl.mu.Lock()
	cl.connecting = false
	cl.cancelDial = nil
	closed := cl.closed
	if err == nil && !closed {
		cl.conn = conn
	}
	cl.mu.Unlock()
	switch {
	case closed:
		if conn != nil {
			_ = conn.Close()
		}
		return report(fail(stClosed, "client was closed while connecting"), errOut)
	case err != nil:
		status := statusOf(err)
		switch status {
		case stTimeout, stInvalidArg, stConnect:
		default:
			status = stConnect
		}
		return report(failed(status, err), errOut)
	}
	return stOK
}

//export wsrpc_client_call
func wsrpc_client_call(h C.uintptr_t, method, params *C.char, timeoutMS C.int, result **C.char, errOut *C.wsrpc_error) (st C.int) {
	if result != nil {
		*result = nil
	}
	defer guard(errOut, &st)
	_, conn, a, f := clientCall(h, method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	return report(syncCall(conn, a, result), errOut)
}

//export wsrpc_client_call_async
func wsrpc_client_call_async(h C.uintptr_t, method, params *C.char, timeoutMS C.int, fn, user C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if fn == 0 {
		return report(fail(stInvalidArg, "completion callback is NULL"), errOut)
	}
	cl, conn, a, f := clientCall(h, method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	return report(asyncCall(cl.id, cl.gate, conn, a, fn, user), errOut)
}

//export wsrpc_client_notify
func wsrpc_client_notify(h C.uintptr_t, method, params *C.char, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	cl, f := lookupClient(h)
	if f != nil {
		return report(f, errOut)
	}
	a, f := parseCall(method, params, 0)
	if f != nil {
		return report(f, errOut)
	}
	defer a.cancel()
	conn, f := cl.current()
	if f != nil {
		return report(f, errOut)
	}
	if err := conn.Notify(a.ctx, a.method, a.params); err != nil {
		return report(failed(stUnspecified, err), errOut)
	}
	return stOK
}

//export wsrpc_client_channel_id
func wsrpc_client_channel_id(h C.uintptr_t, out **C.char, errOut *C.wsrpc_error) (st C.int) {
	if out != nil {
		*out = nil
	}
	defer guard(errOut, &st)
	cl, f := lookupClient(h)
	if f != nil {
		return report(f, errOut)
	}
	conn, f := cl.current()
	if f != nil {
		return report(f, errOut)
	}
	ch := conn.Channel()
	if ch == nil {
		return report(failed(stNotConn, wsrpc.ErrNotConnected), errOut)
	}
	if out != nil {
		*out = cstr(ch.ID())
	}
	return stOK
}

//export wsrpc_client_close
func wsrpc_client_close(h C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if h == 0 {
		return report(fail(stInvalidArg, "client is NULL"), errOut)
	}
	regMu.Lock()
	cl := clients[uintptr(h)]
	delete(clients, uintptr(h))
	regMu.Unlock()
	if cl == nil {
		return report(fail(stClosed, "client is already closed (or not a client handle)"), errOut)
	}
	cl.mu.Lock()
	cl.closed = true
	conn, cancel := cl.conn, cl.cancelDial
	cl.mu.Unlock()
	cl.gate.startClosing()
	if cancel != nil {
		cancel()
	}
	finish := func() {
		if conn != nil {
			_ = conn.Close()
		}
		cl.gate.drain()
	}
	if inOwnCallback(cl.id) {
		go finish()
		return stOK
	}
	finish()
	return stOK
}

//export wsrpc_client_stats
func wsrpc_client_stats(h C.uintptr_t, out **C.char, errOut *C.wsrpc_error) (st C.int) {
	if out != nil {
		*out = nil
	}
	defer guard(errOut, &st)
	cl, f := lookupClient(h)
	if f != nil {
		return report(f, errOut)
	}
	cl.mu.Lock()
	conn := cl.conn
	cl.mu.Unlock()
	var s wsrpc.Stats // not connected yet: nothing counted
	if conn != nil {
		s = conn.Stats()
	}
	return report(statsOut(s, out), errOut)
}

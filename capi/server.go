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
	"sync/atomic"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// server is the object behind a wsrpc_server handle.
type server struct {
	id    uintptr
	cfg   wsrpc.Config
	srv   *wsrpc.Server
	gate  *gate
	event atomic.Pointer[cEvent]

	mu     sync.Mutex
	ln     *wsrpc.Listener
	closed bool
}

// channel finds an open connection by id.
func (s *server) channel(id *C.char) (*wsrpc.Channel, *failure) {
	cid, ok := gostr(id)
	if !ok || cid == "" {
		return nil, fail(stInvalidArg, "channel id is NULL or empty")
	}
	ch := s.srv.ChannelByID(cid)
	if ch == nil {
		return nil, fail(stNotFound, "no open connection with channel id %q", cid)
	}
	return ch, nil
}

//export wsrpc_server_new
func wsrpc_server_new(options *C.char, errOut *C.wsrpc_error) (h C.uintptr_t) {
	var st C.int
	defer guard(errOut, &st)
	cfg, f := parseOptions(options)
	if f != nil {
		report(f, errOut)
		return 0
	}
	s := &server{id: newHandle(), cfg: cfg, gate: newGate()}
	srv, err := wsrpc.NewServer(wsrpc.NewMethods(), wsrpc.WithConfig(cfg),
		wsrpc.WithEvents(eventSink(s.id, s.gate, &s.event)))
	if err != nil {
		report(failed(stInvalidArg, err), errOut)
		return 0
	}
	s.srv = srv
	regMu.Lock()
	servers[s.id] = s
	regMu.Unlock()
	return C.uintptr_t(s.id)
}

//export wsrpc_server_register
func wsrpc_server_register(h C.uintptr_t, method *C.char, fn, user C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	s, f := lookupServer(h)
	if f != nil {
		return report(f, errOut)
	}
	return report(register(s.srv.Methods(), s.id, s.gate, method, fn, user), errOut)
}

//export wsrpc_server_on_event
func wsrpc_server_on_event(h C.uintptr_t, fn, user C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	s, f := lookupServer(h)
	if f != nil {
		return report(f, errOut)
	}
	if fn == 0 {
		s.event.Store(nil)
	} else {
		s.event.Store(&cEvent{fn: fn, user: user})
	}
	return stOK
}

//export wsrpc_server_listen
func wsrpc_server_listen(h C.uintptr_t, addr, path *C.char, url **C.char, errOut *C.wsrpc_error) (st C.int) {
	if url != nil {
		*url = nil
	}
	defer guard(errOut, &st)
	s, f := lookupServer(h)
	if f != nil {
		return report(f, errOut)
	}
	a, ok := gostr(addr)
	if !ok || a == "" {
		return report(fail(stInvalidArg, "address is NULL or empty"), errOut)
	}
	p, _ := gostr(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return report(fail(stClosed, "server is closed"), errOut)
	case s.ln != nil:
		return report(fail(stState, "server is already listening on %s", s.ln.Addr()), errOut)
	}
	ln, err := wsrpc.Listen(a, p, s.srv)
	if err != nil {
		status := stListen
		if wsrpc.KindOf(err) == wsrpc.KindInvalidArgument {
			status = stInvalidArg
		}
		return report(failed(C.int(status), err), errOut)
	}
	s.ln = ln
	if url != nil {
		*url = cstr(ln.URL())
	}
	return stOK
}

//export wsrpc_server_channels
func wsrpc_server_channels(h C.uintptr_t, out **C.char, errOut *C.wsrpc_error) (st C.int) {
	if out != nil {
		*out = nil
	}
	defer guard(errOut, &st)
	s, f := lookupServer(h)
	if f != nil {
		return report(f, errOut)
	}
	ids := []string{}
	for _, ch := range s.srv.Channels() {
		ids = append(ids, ch.ID())
	}
	data, _ := json.Marshal(ids)
	if out != nil {
		*out = cstr(string(data))
	}
	return stOK
}

//export wsrpc_server_call
func wsrpc_server_call(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, result **C.char, errOut *C.wsrpc_error) (st C.int) {
	if result != nil {
		*result = nil
	}
	defer guard(errOut, &st)
	_, ch, a, f := serverCall(h, chanID, method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	return report(syncCall(ch, a, result), errOut)
}

//export wsrpc_server_call_async
func wsrpc_server_call_async(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, fn, user C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if fn == 0 {
		return report(fail(stInvalidArg, "completion callback is NULL"), errOut)
	}
	s, ch, a, f := serverCall(h, chanID, method, params, timeoutMS)
	if f != nil {
		return report(f, errOut)
	}
	return report(asyncCall(s.id, s.gate, ch, a, fn, user), errOut)
}

//export wsrpc_server_notify
func wsrpc_server_notify(h C.uintptr_t, chanID, method, params *C.char, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	s, f := lookupServer(h)
	if f != nil {
		return report(f, errOut)
	}
	a, f := parseCall(method, params, 0)
	if f != nil {
		return report(f, errOut)
	}
	defer a.cancel()
	ch, f := s.channel(chanID)
	if f != nil {
		return report(f, errOut)
	}
	if err := ch.Notify(a.ctx, a.method, a.params); err != nil {
		return report(failed(stUnspecified, err), errOut)
	}
	return stOK
}

//export wsrpc_server_close
func wsrpc_server_close(h C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if h == 0 {
		return report(fail(stInvalidArg, "server is NULL"), errOut)
	}
	regMu.Lock()
	s := servers[uintptr(h)]
	delete(servers, uintptr(h))
	regMu.Unlock()
	if s == nil {
		return report(fail(stClosed, "server is already closed (or not a server handle)"), errOut)
	}
	s.mu.Lock()
	s.closed = true
	ln := s.ln
	s.mu.Unlock()
	s.gate.startClosing()
	finish := func() {
		if ln != nil {
			_ = ln.Close()
		} else {
			_ = s.srv.Close()
		}
		s.gate.drain()
	}
	if inOwnCallback(s.id) {
		go finish()
		return stOK
	}
	finish()
	return stOK
}

//export wsrpc_server_stats
func wsrpc_server_stats(h C.uintptr_t, out **C.char, errOut *C.wsrpc_error) (st C.int) {
	if out != nil {
		*out = nil
	}
	defer guard(errOut, &st)
	s, f := lookupServer(h)
	if f != nil {
		return report(f, errOut)
	}
	return report(statsOut(s.srv.Stats(), out), errOut)
}

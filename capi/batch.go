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

// Batches (wsrpc_*_batch_new, wsrpc_batch_*): a wsrpc.Batch behind a handle. Each call
// entry ends as a pending call (settle, outcome) does; the batch's one deadline is set
// when it is sent.

type batch struct {
	owner   uintptr
	gate    *gate
	timeout time.Duration // the owner's default_response_timeout

	mu      sync.Mutex
	b       *wsrpc.Batch
	entries []*wsrpc.Pending // by entry index; nil for notifications
	calls   []*pendingCall   // by entry index once sent; nil for notifications
	ctx     context.Context  // the answers' deadline, once sent
	cancel  context.CancelFunc
	sent    bool
}

var batches sync.Map // handle -> *batch

func batchOptions(flags C.int) ([]wsrpc.BatchOption, *failure) {
	if flags&^C.WSRPC_BATCH_SPLIT != 0 {
		return nil, fail(stInvalidArg, "unknown batch flags %#x", int(flags&^C.WSRPC_BATCH_SPLIT))
	}
	if flags&C.WSRPC_BATCH_SPLIT != 0 {
		return []wsrpc.BatchOption{wsrpc.SplitUnsupported()}, nil
	}
	return nil, nil
}

// newBatch registers the batch open makes (with the options flags asks for) and returns its
// handle, or reports why there is none.
func newBatch(flags C.int, errOut *C.wsrpc_error, open func([]wsrpc.BatchOption) (*batch, *failure)) C.uintptr_t {
	opts, f := batchOptions(flags)
	var bt *batch
	if f == nil {
		bt, f = open(opts)
	}
	if f != nil {
		report(f, errOut)
		return 0
	}
	h := newHandle()
	batches.Store(h, bt)
	return C.uintptr_t(h)
}

func lookupBatch(h C.uintptr_t) (*batch, *failure) {
	if h == 0 {
		return nil, fail(stInvalidArg, "batch is NULL")
	}
	v, ok := batches.Load(uintptr(h))
	if !ok {
		return nil, fail(stClosed, "batch is freed (or not a batch handle)")
	}
	return v.(*batch), nil
}

//export wsrpc_client_batch_new
func wsrpc_client_batch_new(h C.uintptr_t, flags C.int, errOut *C.wsrpc_error) (out C.uintptr_t) {
	var st C.int
	defer guard(errOut, &st)
	return newBatch(flags, errOut, func(opts []wsrpc.BatchOption) (*batch, *failure) {
		cl, f := lookupClient(h)
		if f != nil {
			return nil, f
		}
		conn, f := cl.current()
		if f != nil {
			return nil, f
		}
		return &batch{owner: cl.id, gate: cl.gate, timeout: cl.cfg.DefaultTimeout, b: conn.NewBatch(opts...)}, nil
	})
}

//export wsrpc_server_batch_new
func wsrpc_server_batch_new(h C.uintptr_t, chanID *C.char, flags C.int, errOut *C.wsrpc_error) (out C.uintptr_t) {
	var st C.int
	defer guard(errOut, &st)
	return newBatch(flags, errOut, func(opts []wsrpc.BatchOption) (*batch, *failure) {
		s, f := lookupServer(h)
		if f != nil {
			return nil, f
		}
		ch, f := s.channel(chanID)
		if f != nil {
			return nil, f
		}
		return &batch{owner: s.id, gate: s.gate, timeout: s.cfg.DefaultTimeout, b: ch.NewBatch(opts...)}, nil
	})
}

// add adds a call (call true) or a notification and returns its entry index.
func (bt *batch) add(method, params *C.char, call bool) (int, *failure) {
	name, raw, f := parseRequest(method, params)
	if f != nil {
		return 0, f
	}
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if bt.sent {
		return 0, fail(stState, "batch is sent already")
	}
	var p *wsrpc.Pending
	if call {
		p = bt.b.Call(name, raw)
	} else {
		bt.b.Notify(name, raw)
	}
	bt.entries = append(bt.entries, p)
	return len(bt.entries) - 1, nil
}

//export wsrpc_batch_call
func wsrpc_batch_call(h C.uintptr_t, method, params *C.char, index *C.int, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	bt, f := lookupBatch(h)
	if f != nil {
		return report(f, errOut)
	}
	i, f := bt.add(method, params, true)
	if f != nil {
		return report(f, errOut)
	}
	if index != nil {
		*index = C.int(i)
	}
	return stOK
}

//export wsrpc_batch_notify
func wsrpc_batch_notify(h C.uintptr_t, method, params *C.char, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	bt, f := lookupBatch(h)
	if f != nil {
		return report(f, errOut)
	}
	_, f = bt.add(method, params, false)
	return report(f, errOut)
}

//export wsrpc_batch_send
func wsrpc_batch_send(h C.uintptr_t, timeoutMS C.int, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	bt, f := lookupBatch(h)
	if f != nil {
		return report(f, errOut)
	}
	if timeoutMS < 0 {
		return report(fail(stInvalidArg, "timeout_ms must be >= 0, got %d", int(timeoutMS)), errOut)
	}
	bt.mu.Lock()
	defer bt.mu.Unlock()
	switch {
	case bt.sent:
		return report(fail(stState, "batch is sent already"), errOut)
	case len(bt.entries) == 0:
		return report(fail(stInvalidArg, "batch is empty"), errOut)
	}
	ctx, cancel := deadline(timeoutMS)
	if timeoutMS == 0 && bt.timeout > 0 {
		cancel()
		ctx, cancel = context.WithTimeout(context.Background(), bt.timeout)
	}
	bt.ctx, bt.cancel, bt.sent = ctx, cancel, true
	bt.calls = make([]*pendingCall, len(bt.entries))
	for i, p := range bt.entries {
		if p != nil {
			bt.calls[i] = &pendingCall{p: p, ctx: ctx, cancel: func() {}}
		}
	}
	if err := bt.b.Send(ctx); err != nil { // (the calls end with err too)
		return report(failed(stUnspecified, err), errOut)
	}
	return stOK
}

// lookupSent finds a batch that has been sent, with its calls and deadline.
func lookupSent(h C.uintptr_t) (*batch, []*pendingCall, context.Context, *failure) {
	bt, f := lookupBatch(h)
	if f != nil {
		return nil, nil, nil, f
	}
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if !bt.sent {
		return nil, nil, nil, fail(stState, "batch is not sent yet")
	}
	return bt, bt.calls, bt.ctx, nil
}

// ended waits up to wait (< 0: without limit) for every call of the batch to end.
func ended(calls []*pendingCall, ctx context.Context, wait time.Duration) bool {
	var timeout <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for _, pc := range calls {
		if pc == nil {
			continue
		}
		select {
		case <-pc.p.Done():
			continue
		case <-ctx.Done():
			return true
		default:
		}
		select {
		case <-pc.p.Done():
		case <-ctx.Done():
			return true
		case <-timeout:
			return false
		}
	}
	return true
}

//export wsrpc_batch_wait
func wsrpc_batch_wait(h C.uintptr_t, waitMS C.int, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	_, calls, ctx, f := lookupSent(h)
	if f != nil {
		return report(f, errOut)
	}
	if !ended(calls, ctx, time.Duration(waitMS)*time.Millisecond) {
		return stPending
	}
	return stOK
}

//export wsrpc_batch_on_done
func wsrpc_batch_on_done(h C.uintptr_t, fn, user C.uintptr_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	if fn == 0 {
		return report(fail(stInvalidArg, "completion callback is NULL"), errOut)
	}
	bt, calls, ctx, f := lookupSent(h)
	if f != nil {
		return report(f, errOut)
	}
	if !bt.gate.enter(false) {
		return report(fail(stClosed, "closed"), errOut)
	}
	go func() {
		defer bt.gate.leave()
		ended(calls, ctx, -1)
		done(bt.owner, fn, user, json.RawMessage("null"), nil)
	}()
	return stOK
}

//export wsrpc_batch_result
func wsrpc_batch_result(h C.uintptr_t, index C.int, result **C.char, errOut *C.wsrpc_error) (st C.int) {
	if result != nil {
		*result = nil
	}
	defer guard(errOut, &st)
	_, calls, ctx, f := lookupSent(h)
	if f != nil {
		return report(f, errOut)
	}
	if index < 0 || int(index) >= len(calls) {
		return report(fail(stInvalidArg, "entry %d does not exist (the batch has %d)", int(index), len(calls)), errOut)
	}
	pc := calls[index]
	if pc == nil {
		return report(fail(stInvalidArg, "entry %d is a notification: it has no answer", int(index)), errOut)
	}
	select {
	case <-pc.p.Done():
	case <-ctx.Done():
	default:
		return stPending
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

//export wsrpc_batch_free
func wsrpc_batch_free(h C.uintptr_t) (st C.int) {
	defer guard(nil, &st)
	if h == 0 {
		return stInvalidArg
	}
	v, ok := batches.LoadAndDelete(uintptr(h))
	if !ok {
		return stClosed
	}
	bt := v.(*batch)
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if bt.sent {
		bt.cancel()
		for _, pc := range bt.calls {
			if pc != nil {
				pc.canceled.Store(true)
				pc.settle() // forgets a call still unanswered; the peer is told
			}
		}
	}
	return stOK
}

package main

/*
#define WSRPC_NO_PROTOTYPES 1
#include <stdint.h>
#include <stdlib.h>
#include "wsrpc.h"
*/
import "C"

import (
	"errors"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// withReply runs set on the reply behind handle h while its callback is running.
func withReply(h C.uintptr_t, set func(r *reply) *failure) *failure {
	if h == 0 {
		return fail(stInvalidArg, "reply is NULL")
	}
	v, ok := replies.Load(uintptr(h))
	if !ok {
		return fail(stClosed, "reply is no longer valid (its method callback has returned)")
	}
	r := v.(*reply)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fail(stClosed, "reply is no longer valid (its method callback has returned)")
	}
	return set(r)
}

//export wsrpc_reply_result
func wsrpc_reply_result(h C.uintptr_t, result *C.char) (st C.int) {
	defer guard(nil, &st)
	text, _ := gostr(result)
	return report(withReply(h, func(r *reply) *failure {
		raw, err := wsrpc.RawResult([]byte(text))
		if err != nil {
			return failed(stInvalidArg, err)
		}
		r.result, r.err = raw, nil
		return nil
	}), nil)
}

//export wsrpc_reply_error
func wsrpc_reply_error(h C.uintptr_t, code C.int, message, data *C.char) (st C.int) {
	defer guard(nil, &st)
	msg, _ := gostr(message)
	d, _ := gostr(data)
	return report(withReply(h, func(r *reply) *failure {
		e, err := wsrpc.NewRemoteError(int(code), msg, []byte(d))
		if err != nil {
			return failed(stInvalidArg, err)
		}
		r.result, r.err = nil, e
		return nil
	}), nil)
}

//export wsrpc_reply_fail
func wsrpc_reply_fail(h C.uintptr_t, message *C.char) (st C.int) {
	defer guard(nil, &st)
	msg, _ := gostr(message)
	if msg == "" {
		msg = "method failed"
	}
	return report(withReply(h, func(r *reply) *failure {
		r.result, r.err = nil, errors.New(msg)
		return nil
	}), nil)
}

//export wsrpc_reply_check
func wsrpc_reply_check(h C.uintptr_t) (st C.int) {
	defer guard(nil, &st)
	return report(withReply(h, func(r *reply) *failure {
		if err := r.ctx.Err(); err != nil {
			return failed(stCanceled, err)
		}
		return nil
	}), nil)
}

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
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// Completion queues (wsrpc_queue_*): calls started with wsrpc_*_call_queued put their
// outcomes in a queue instead of calling back, and the read end of a pipe becomes readable
// when the queue holds any. An event loop (asyncio, libuv, ...) watches that descriptor,
// wakes once for however many outcomes have arrived and takes them all with one
// wsrpc_queue_take: no C callback per call, no thread of the loop's language entered from a
// library thread, no goroutine per call (the answer's AfterDone and the deadline's timer
// queue the outcome). The loop's thread only checks a call's arguments; one goroutine per
// queue sends the calls (queue.sendStarts).
type queue struct {
	mu     sync.Mutex
	buf    []byte // the outcomes so far, as JSON array members separated by commas
	armed  bool   // a byte was written to the pipe since the last take
	closed bool
	r, w   int // the pipe

	// Calls to send: the caller's thread (an event loop's) only checks its arguments and
	// hands the call over; a goroutine sends the calls, in order (see enqueue).
	starts   []*queuedCall
	spare    []*queuedCall
	starting bool // a goroutine is sending them

	live map[uint64]*queuedCall // the calls without an outcome yet, by tag (wsrpc_queue_cancel)
}

// queuedCall is a call handed over to be sent, then sent, until its outcome is queued.
type queuedCall struct {
	q        *queue
	c        waiter
	method   string
	params   json.RawMessage
	timeout  time.Duration // 0: none
	deadline time.Time
	tag      uint64

	ended        atomic.Bool // its outcome is decided (answer, deadline or wsrpc_queue_cancel)
	mu           sync.Mutex  // guards p, timer and cancelOnSend
	p            *wsrpc.Pending
	timer        *time.Timer
	cancelOnSend bool // cancelled before it was sent: start queues the outcome
}

// How a queued call ends (queuedCall.end).
const (
	endAnswered = iota
	endExpired
	endCanceled
)

var queues sync.Map // handle -> *queue

func lookupQueue(h C.uintptr_t) (*queue, *failure) {
	if h == 0 {
		return nil, fail(stInvalidArg, "queue is NULL")
	}
	v, ok := queues.Load(uintptr(h))
	if !ok {
		return nil, fail(stClosed, "queue is closed (or not a queue handle)")
	}
	return v.(*queue), nil
}

//export wsrpc_queue_new
func wsrpc_queue_new(errOut *C.wsrpc_error) (h C.uintptr_t) {
	var st C.int
	defer guard(errOut, &st)
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		report(fail(stInternal, "queue: pipe: %v", err), errOut)
		return 0
	}
	for _, fd := range p {
		syscall.CloseOnExec(fd)
		if err := syscall.SetNonblock(fd, true); err != nil {
			_ = syscall.Close(p[0])
			_ = syscall.Close(p[1])
			report(fail(stInternal, "queue: pipe: %v", err), errOut)
			return 0
		}
	}
	id := newHandle()
	queues.Store(id, &queue{r: p[0], w: p[1], live: map[uint64]*queuedCall{}})
	return C.uintptr_t(id)
}

//export wsrpc_queue_fd
func wsrpc_queue_fd(h C.uintptr_t) (fd C.int) {
	fd = -1
	defer guard(nil, &fd)
	q, f := lookupQueue(h)
	if f != nil {
		return -1
	}
	return C.int(q.r)
}

// push adds the outcome (a JSON array) of qc and makes the pipe readable if it is not yet.
func (q *queue) push(qc *queuedCall, entry []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if q.live[qc.tag] == qc {
		delete(q.live, qc.tag)
	}
	if len(q.buf) > 0 {
		q.buf = append(q.buf, ',')
	}
	q.buf = append(q.buf, entry...)
	if !q.armed {
		q.armed = true
		one := [1]byte{1}
		_, _ = syscall.Write(q.w, one[:]) // a full pipe is readable already
	}
}

//export wsrpc_queue_take
func wsrpc_queue_take(h C.uintptr_t, out **C.char, errOut *C.wsrpc_error) (st C.int) {
	if out != nil {
		*out = nil
	}
	defer guard(errOut, &st)
	if out == nil {
		return report(fail(stInvalidArg, "outcomes_json is NULL"), errOut)
	}
	q, f := lookupQueue(h)
	if f != nil {
		return report(f, errOut)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.armed {
		var drain [64]byte
		for {
			if n, err := syscall.Read(q.r, drain[:]); n <= 0 || err != nil {
				break
			}
		}
		q.armed = false
	}
	if len(q.buf) == 0 {
		return stOK
	}
	text := C.malloc(C.size_t(len(q.buf) + 3))
	b := unsafe.Slice((*byte)(text), len(q.buf)+3)
	b[0] = '['
	copy(b[1:], q.buf)
	b[len(b)-2], b[len(b)-1] = ']', 0
	*out = (*C.char)(text)
	if cap(q.buf) > 64<<10 {
		q.buf = nil // a burst is over: do not keep its memory
	} else {
		q.buf = q.buf[:0]
	}
	return stOK
}

//export wsrpc_queue_close
func wsrpc_queue_close(h C.uintptr_t) (st C.int) {
	defer guard(nil, &st)
	if h == 0 {
		return stInvalidArg
	}
	v, ok := queues.LoadAndDelete(uintptr(h))
	if !ok {
		return stClosed
	}
	q := v.(*queue)
	q.mu.Lock()
	q.closed = true
	q.buf = nil
	q.starts = nil // not sent: nobody takes their outcomes
	q.live = nil
	_ = syscall.Close(q.r)
	_ = syscall.Close(q.w)
	q.mu.Unlock()
	return stOK
}

// sendStarts sends the calls handed over until there are none left.
func (q *queue) sendStarts() {
	for {
		q.mu.Lock()
		todo := q.starts
		if len(todo) == 0 || q.closed {
			q.starting = false
			q.mu.Unlock()
			return
		}
		q.starts, q.spare = q.spare[:0], nil
		q.mu.Unlock()
		for i, qc := range todo {
			qc.start()
			todo[i] = nil
		}
		q.mu.Lock()
		if q.spare == nil && cap(todo) <= 4096 {
			q.spare = todo[:0]
		}
		q.mu.Unlock()
	}
}

// start sends the call; its outcome goes to the queue under its tag. No context and no
// goroutine per call: one timer for the deadline (timeout_ms, else default_response_timeout),
// and the answer's AfterDone.
func (qc *queuedCall) start() {
	qc.mu.Lock()
	canceled := qc.cancelOnSend
	qc.mu.Unlock()
	if canceled { // before it was sent: it never is
		qc.q.push(qc, outcome(qc.tag, nil, fail(stCanceled, "canceled")))
		return
	}
	var ctx context.Context = context.Background()
	if qc.timeout > 0 {
		ctx = &lazyDeadline{deadline: qc.deadline}
	}
	// Calls started one after another go out together, written by a goroutine. (Not under
	// qc.mu: sending may wait for a connection, and wsrpc_queue_cancel must not.)
	p, err := qc.c.GoWaited(ctx, qc.method, qc.params, wsrpc.WithBackgroundWrite())
	if err != nil {
		if qc.ended.CompareAndSwap(false, true) {
			qc.q.push(qc, outcome(qc.tag, nil, failed(stUnspecified, err)))
		} else { // cancelled while being sent (end left the outcome to this goroutine)
			qc.q.push(qc, outcome(qc.tag, nil, fail(stCanceled, "canceled")))
		}
		return
	}
	qc.mu.Lock()
	qc.p = p
	canceled = qc.cancelOnSend
	if !canceled && qc.timeout > 0 {
		qc.timer = time.AfterFunc(time.Until(qc.deadline), qc.expire)
	}
	qc.mu.Unlock()
	if canceled { // while it was being sent
		qc.finish(p, endCanceled)
		return
	}
	p.AfterDone(qc.answered)
}

func (qc *queuedCall) answered() { qc.end(endAnswered) }
func (qc *queuedCall) expire()   { qc.end(endExpired) }

// end decides the call's outcome, once: the answer, a timeout, or WSRPC_ERR_CANCELED
// (wsrpc_queue_cancel). A cancel that comes before the call has been sent leaves the
// outcome to start (cancelOnSend), which is sending it or will skip it.
func (qc *queuedCall) end(how int) {
	if !qc.ended.CompareAndSwap(false, true) {
		return
	}
	qc.mu.Lock()
	p := qc.p
	if p == nil { // only a cancel comes before the call has been sent
		qc.cancelOnSend = true
	}
	if qc.timer != nil && how != endExpired {
		qc.timer.Stop()
	}
	qc.mu.Unlock()
	if p != nil {
		qc.finish(p, how)
	}
}

// finish takes the outcome of the call sent (p) and queues it: a cancelled call is given
// up as any whose context ends, which tells a wsrpc peer to cancel its handler.
func (qc *queuedCall) finish(p *wsrpc.Pending, how int) {
	var waitCtx context.Context = context.Background()
	switch {
	case how == endCanceled:
		waitCtx = settled{deadline: qc.deadline, err: context.Canceled}
	case qc.timeout > 0:
		waitCtx = settled{deadline: qc.deadline}
		if how == endExpired {
			waitCtx = settled{deadline: qc.deadline, err: context.DeadlineExceeded}
		}
	}
	var out json.RawMessage
	err := p.Wait(waitCtx, &out) // at once: answered, expired or cancelled
	var f *failure
	if err != nil {
		if how == endCanceled {
			f = canceledFailure(err)
		}
		if f == nil {
			f = failed(stUnspecified, err)
		}
	}
	qc.q.push(qc, outcome(qc.tag, out, f))
}

//export wsrpc_queue_cancel
func wsrpc_queue_cancel(h C.uintptr_t, tag C.uint64_t) (st C.int) {
	defer guard(nil, &st)
	q, f := lookupQueue(h)
	if f != nil {
		return f.status
	}
	q.mu.Lock()
	qc := q.live[uint64(tag)]
	q.mu.Unlock()
	if qc == nil || qc.ended.Load() {
		return stClosed
	}
	qc.end(endCanceled)
	return stOK
}

// lazyDeadline is a context with a deadline and no timer until someone asks for Done (a
// Client waiting for a connection, rarely): the calls that queue.start sends need a
// deadline, and a timer per call is most of what a context costs.
type lazyDeadline struct {
	deadline time.Time
	mu       sync.Mutex
	done     chan struct{}
}

func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *lazyDeadline) Value(any) any               { return nil }

func (c *lazyDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		d := c.done
		time.AfterFunc(time.Until(c.deadline), func() { close(d) })
	}
	return c.done
}

func (c *lazyDeadline) Err() error {
	c.mu.Lock()
	d := c.done
	c.mu.Unlock()
	if d == nil {
		if time.Now().Before(c.deadline) {
			return nil
		}
		return context.DeadlineExceeded
	}
	select {
	case <-d:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// settled is the context Pending.Wait gets once a queued call's fate is known: ended with
// err (Done closed: Wait gives the call up with ErrTimeout for context.DeadlineExceeded,
// else err, unless the answer is there), or not (answered: Wait returns it at once and
// never waits on Done).
type settled struct {
	deadline time.Time
	err      error
}

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (s settled) Deadline() (time.Time, bool) { return s.deadline, !s.deadline.IsZero() }
func (s settled) Value(any) any               { return nil }
func (s settled) Done() <-chan struct{} {
	if s.err != nil {
		return closedDone
	}
	return nil
}
func (s settled) Err() error { return s.err }

// outcome is one member of wsrpc_queue_take's array: [tag, 0, result] or
// [tag, status, null, rpc_code, message, data] for a failure f.
func outcome(tag uint64, result json.RawMessage, f *failure) []byte {
	b := make([]byte, 0, 32+len(result))
	b = append(b, '[')
	b = strconv.AppendUint(b, tag, 10)
	if f == nil {
		if len(result) == 0 {
			result = json.RawMessage("null")
		}
		b = append(b, ",0,"...)
		b = append(b, result...)
		return append(b, ']')
	}
	status := f.status
	msg, code, data := f.err.Error(), 0, json.RawMessage("null")
	if re := wsrpc.RemoteError(f.err); re != nil && status == stRemote {
		msg, code = re.Message, re.Code
		if len(re.Data) > 0 {
			data = re.Data
		}
	}
	m, _ := json.Marshal(msg)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ",null,"...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ',')
	b = append(b, m...)
	b = append(b, ',')
	b = append(b, data...)
	return append(b, ']')
}

// enqueue ends wsrpc_*_call_queued: it hands the call (its arguments checked) over to the
// queue's sending goroutine, so that the caller, an event loop, spends next to no time in
// the library per call; the goroutine sends the calls in the order they came.
func enqueue(qh C.uintptr_t, c waiter, a *callArgs, defaultTimeout time.Duration, tag C.uint64_t) *failure {
	q, f := lookupQueue(qh)
	if f != nil {
		a.cancel()
		return f
	}
	qc := &queuedCall{q: q, c: c, method: a.method, params: a.params, timeout: a.timeout, tag: uint64(tag)}
	if qc.timeout == 0 {
		qc.timeout = defaultTimeout
	}
	if qc.timeout > 0 {
		qc.deadline = time.Now().Add(qc.timeout)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fail(stClosed, "queue is closed")
	}
	q.live[qc.tag] = qc // a later call with the same tag takes its place for wsrpc_queue_cancel
	q.starts = append(q.starts, qc)
	if !q.starting {
		q.starting = true
		go q.sendStarts()
	}
	return nil
}

//export wsrpc_client_call_queued
func wsrpc_client_call_queued(h C.uintptr_t, method, params *C.char, timeoutMS C.int, qh C.uintptr_t, tag C.uint64_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	cl, conn, a, f := clientCall(h, method, params, timeoutMS, noCtx)
	if f != nil {
		return report(f, errOut)
	}
	return report(enqueue(qh, conn, a, cl.cfg.DefaultTimeout, tag), errOut)
}

//export wsrpc_server_call_queued
func wsrpc_server_call_queued(h C.uintptr_t, chanID, method, params *C.char, timeoutMS C.int, qh C.uintptr_t, tag C.uint64_t, errOut *C.wsrpc_error) (st C.int) {
	defer guard(errOut, &st)
	s, ch, a, f := serverCall(h, chanID, method, params, timeoutMS, noCtx)
	if f != nil {
		return report(f, errOut)
	}
	return report(enqueue(qh, ch, a, s.cfg.DefaultTimeout, tag), errOut)
}

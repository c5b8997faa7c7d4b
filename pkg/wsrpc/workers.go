package wsrpc

import (
	"sync"
	"time"
)

// workerIdle is how long an idle handler goroutine waits for more work before it ends.
const workerIdle = 2 * time.Second

// request is one incoming request or notification waiting for a handler goroutine.
type request struct {
	id     []byte
	name   string
	params []byte
	legacy bool
	slot   bool  // holds a handler slot (MaxConcurrentRequests)
	in     int64 // bytes held of Config.MaxIncomingBytes
	msg    int   // size of the message it came in (0 if unknown)
	// batch, when set, takes the reply (entry idx of a batch's answer) instead of send.
	batch *batchReply
	idx   int
	// tracked: its handler context, which the peer may cancel (extended connections;
	// see Channel.track).
	tracked *handlerCtx
	// meta is the request's "$meta" member (extended connections; see MetaMember).
	meta []byte
}

// workers runs requests on reusable goroutines: a goroutine that finished a request takes
// the next one instead of ending, so the stack it has grown (JSON decoding is deep) is
// reused rather than regrown for every call. A request that finds no idle goroutine gets a
// new one, so a handler that blocks never holds up another. Idle goroutines end after
// workerIdle, or when the channel closes.
type workers struct {
	queue chan request // unbuffered: a send succeeds only when a worker is idle
	wg    sync.WaitGroup
}

func (w *workers) init() { w.queue = make(chan request) }

// start starts the connection's reader.
func (w *workers) start(c *Channel) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		c.readLoop()
	}()
}

// run hands r to an idle worker or starts one.
func (w *workers) run(c *Channel, r request) {
	select {
	case w.queue <- r:
	default:
		w.wg.Add(1)
		go w.loop(c, r)
	}
}

func (w *workers) loop(c *Channel, r request) {
	defer w.wg.Done()
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		c.serve(c.ctx, r)
		var ok bool
		if r, ok = w.next(c, t); !ok {
			return
		}
	}
}

// next waits for the worker's next request (false: idle for workerIdle, or the channel
// closed). It waits below a frame of waitDepth bytes: the collector halves the stack of a
// goroutine that uses less than a quarter of it, and a worker waiting at the bottom of
// its stack had the stack that handling a request grows (JSON decoding is deep) halved at
// every collection and grown again (copied) by the next request.
//
//go:noinline
func (w *workers) next(c *Channel, t *time.Timer) (request, bool) {
	var depth [waitDepth]byte
	keep(&depth)
	t.Reset(workerIdle)
	select {
	case r := <-w.queue:
		return r, true
	case <-t.C:
	case <-c.done:
	}
	return request{}, false
}

// waitDepth: with it, the 8 KiB stack a typical request grows stays whole while its
// worker waits (see next).
const waitDepth = 2048

// keep makes the compiler keep *b on the stack frame of its caller.
//
//go:noinline
func keep(b *[waitDepth]byte) { b[0] = 0 }

// orderedQueue runs a connection's notifications one at a time, in arrival order
// (Config.OrderedNotifications). Its goroutine runs while there is work and ends when the
// queue is empty; the queue's bytes are bounded by Config.MaxIncomingBytes (the reader
// takes them before it pushes), and a notification handler waiting for a peer's answer
// gives its bytes back (Pending.Wait), so the reader can always read that answer.
type orderedQueue struct {
	mu      sync.Mutex
	q       []request
	running bool
}

// push queues r (on the reader; handlers.Add done) and starts the runner if it is idle.
func (o *orderedQueue) push(c *Channel, r request) {
	o.mu.Lock()
	o.q = append(o.q, r)
	start := !o.running
	o.running = true
	o.mu.Unlock()
	if start {
		go o.run(c)
	}
}

func (o *orderedQueue) run(c *Channel) {
	for {
		o.mu.Lock()
		if len(o.q) == 0 {
			o.running = false
			o.q = nil
			o.mu.Unlock()
			return
		}
		r := o.q[0]
		o.q[0] = request{}
		o.q = o.q[1:]
		o.mu.Unlock()
		c.serve(c.ctx, r)
	}
}

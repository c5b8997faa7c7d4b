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
	read   bool // not a request: take over reading the connection (Channel.readLoop)
}

// workers runs requests on reusable goroutines: a goroutine that finished a request takes
// the next one instead of ending, so the stack it has grown (JSON decoding is deep) is
// reused rather than regrown for every call. A request that finds no idle goroutine gets a
// new one, so a handler that blocks (for example waiting on a call to the peer) never
// holds up another. Idle goroutines end after workerIdle, or when the channel closes.
type workers struct {
	queue chan request // unbuffered: a send succeeds only when a worker is idle
	wg    sync.WaitGroup
}

func (w *workers) init() { w.queue = make(chan request) }

// start starts the first reader.
func (w *workers) start(c *Channel) {
	w.wg.Add(1)
	go w.loop(c, request{read: true})
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
		if r.read {
			if !c.readLoop() {
				return
			}
		} else {
			c.serve(c.ctx, r.id, r.name, r.params, r.legacy)
		}
		t.Reset(workerIdle)
		select {
		case r = <-w.queue:
		case <-t.C:
			return
		case <-c.done:
			return
		}
	}
}

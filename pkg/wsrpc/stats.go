package wsrpc

import "sync/atomic"

// Stats is a snapshot of the counters of a Client or a Server since it was created (or
// of one Channel since it opened).
//
// What counts: every message read or written on the connection (MessagesIn/Out, and
// BytesIn/Out, their payload bytes; a batch is one message). Requests and notifications
// are counted one by one, batch members included, and the library's own calls too (the
// readiness and JSON-RPC keepalive pings, the channel-id sync); the cancellations sent
// and received on extended connections ($/cancelRequest) count only as messages. An
// incoming request counts in CallsIn when it is dispatched to its method (or refused
// with -32000: then in Rejected too); one that is not valid JSON-RPC is only answered
// (ErrorsOut). ErrorsOut counts the error objects sent, batch members included; ErrorsIn
// the error responses received. InFlightIn counts the notifications being handled too;
// InFlightOut the calls sent whose answer has neither arrived nor been given up on.
type Stats struct {
	Connections      int64  `json:"connections"`       // open now
	ConnectionsTotal uint64 `json:"connections_total"` // established (client) / accepted (server)
	Reconnects       uint64 `json:"reconnects"`        // client: connections after the first
	CallsIn          uint64 `json:"calls_in"`          // requests received
	CallsOut         uint64 `json:"calls_out"`         // requests sent
	NotificationsIn  uint64 `json:"notifications_in"`
	NotificationsOut uint64 `json:"notifications_out"`
	ErrorsIn         uint64 `json:"errors_in"`     // error responses received
	ErrorsOut        uint64 `json:"errors_out"`    // error responses sent
	Rejected         uint64 `json:"rejected"`      // requests refused by backpressure (-32000 answered)
	InFlightIn       int64  `json:"in_flight_in"`  // incoming requests being handled now
	InFlightOut      int64  `json:"in_flight_out"` // outgoing calls awaiting their answer now
	MessagesIn       uint64 `json:"messages_in"`
	MessagesOut      uint64 `json:"messages_out"`
	BytesIn          uint64 `json:"bytes_in"` // message payload bytes
	BytesOut         uint64 `json:"bytes_out"`
}

// Add adds o's counters to s (to sum the Stats of several clients or servers).
func (s *Stats) Add(o Stats) {
	s.Connections += o.Connections
	s.ConnectionsTotal += o.ConnectionsTotal
	s.Reconnects += o.Reconnects
	s.CallsIn += o.CallsIn
	s.CallsOut += o.CallsOut
	s.NotificationsIn += o.NotificationsIn
	s.NotificationsOut += o.NotificationsOut
	s.ErrorsIn += o.ErrorsIn
	s.ErrorsOut += o.ErrorsOut
	s.Rejected += o.Rejected
	s.InFlightIn += o.InFlightIn
	s.InFlightOut += o.InFlightOut
	s.MessagesIn += o.MessagesIn
	s.MessagesOut += o.MessagesOut
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
}

// totals is s without what is "now" (connections open, in flight): what a connection
// that has ended leaves to its owner's totals.
func (s Stats) totals() Stats {
	s.Connections, s.InFlightIn, s.InFlightOut = 0, 0, 0
	return s
}

// counters are one connection's counters: plain atomics on the Channel, summed by the
// owner's Stats (each connection has its own, so connections never contend on them). The
// reader's and the senders' counters are a cache line apart (not padded at the ends: the
// Channel is allocated per connection).
type counters struct {
	// written by the reader (and the dispatch it runs)
	messagesIn      atomic.Uint64
	bytesIn         atomic.Uint64
	callsIn         atomic.Uint64
	notificationsIn atomic.Uint64
	errorsIn        atomic.Uint64
	rejected        atomic.Uint64
	_               [64]byte
	// written by whoever sends
	messagesOut      atomic.Uint64
	bytesOut         atomic.Uint64
	callsOut         atomic.Uint64
	notificationsOut atomic.Uint64
	errorsOut        atomic.Uint64
	inFlightOut      atomic.Int64
}

// Stats returns the channel's counters since it opened (Connections is 1 while it is
// open, ConnectionsTotal 1).
func (c *Channel) Stats() Stats {
	s := &c.stats
	st := Stats{
		ConnectionsTotal: 1,
		CallsIn:          s.callsIn.Load(),
		CallsOut:         s.callsOut.Load(),
		NotificationsIn:  s.notificationsIn.Load(),
		NotificationsOut: s.notificationsOut.Load(),
		ErrorsIn:         s.errorsIn.Load(),
		ErrorsOut:        s.errorsOut.Load(),
		Rejected:         s.rejected.Load(),
		InFlightIn:       c.running.Load(),
		InFlightOut:      s.inFlightOut.Load(),
		MessagesIn:       s.messagesIn.Load(),
		MessagesOut:      s.messagesOut.Load(),
		BytesIn:          s.bytesIn.Load(),
		BytesOut:         s.bytesOut.Load(),
	}
	if !c.isClosed() {
		st.Connections = 1
	}
	return st
}

// countSent counts a request (id set) or notification that has been sent.
func (c *Channel) countSent(request bool) {
	if request {
		c.stats.callsOut.Add(1)
	} else {
		c.stats.notificationsOut.Add(1)
	}
}

// settle marks a call as no longer awaiting its answer (answered, failed or given up):
// Stats.InFlightOut. It may be called any number of times.
func (p *Pending) settle() {
	if p.awaiting.Load() && p.awaiting.CompareAndSwap(true, false) {
		p.ch.stats.inFlightOut.Add(-1)
	}
}

// Stats returns the client's counters since Dial: those of its connections, open and
// ended.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.ended
	st.ConnectionsTotal = c.established
	if c.established > 0 {
		st.Reconnects = c.established - 1
	}
	if c.ch != nil && c.ch != c.endedCh {
		live := c.ch.Stats()
		live.ConnectionsTotal = 0
		st.Add(live)
	}
	return st
}

// channelEnded folds the counters of the client's connection ch, which has ended, into
// its totals.
func (c *Client) channelEnded(ch *Channel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == ch && c.endedCh != ch {
		c.ended.Add(ch.Stats().totals())
		c.endedCh = ch
	}
}

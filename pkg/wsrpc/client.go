package wsrpc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Client is a connection to a server that can call it, be called by it, and (with
// Config.Reconnect) survive the loss of the connection: every reconnect opens a new
// Channel with a new id, and the client's Methods stay registered across them.
// All methods are safe for concurrent use.
type Client struct {
	url     string
	urls    []string // url, then Config.FallbackURLs
	cur     int      // index in urls of the next attempt (used by the dial loop only)
	cfg     *Config
	methods *Methods

	ctx    context.Context // ends with Close; bounds reconnect attempts
	cancel context.CancelFunc

	mu       sync.Mutex
	ch       *Channel      // current channel, nil before the first connect
	changed  chan struct{} // closed and replaced whenever ch or closed changes
	closed   bool
	closeErr error
	done     chan struct{} // closed when the client has closed for good
	super    sync.WaitGroup

	// Stats (guarded by mu): connections set up, and the counters of those that ended
	// (endedCh, the last of them, may still be ch).
	established uint64
	ended       Stats
	endedCh     *Channel
}

var errIdle = &sentinel{msg: "wsrpc: idle timeout", parent: ErrClosed}

// Dial connects to a wsrpc or fastapi-ws-rpc server at url (ws:// or wss://), retrying the
// first connection as Config.Retry says, and returns the connected client.
func Dial(ctx context.Context, url string, opts ...Option) (*Client, error) {
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	methods := cfg.Methods
	if methods == nil {
		methods = NewMethods()
	}
	c := &Client{url: url, cfg: cfg, methods: methods, changed: make(chan struct{}), done: make(chan struct{})}
	c.urls = append([]string{url}, cfg.FallbackURLs...)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, c.cancel)
	defer stop()

	var ch *Channel
	err = backoff.RetryNotify(func() error {
		var err error
		ch, err = c.connect(c.ctx)
		if c.ctx.Err() != nil || errors.Is(err, ErrCertificate) {
			return backoff.Permanent(err)
		}
		return err
	}, backoff.WithContext(&retryBackOff{cfg: cfg.Retry}, c.ctx), func(err error, d time.Duration) {
		cfg.Logger.Warn("wsrpc: connect failed, retrying", "url", url, "in", d, "err", err)
	})
	if err != nil {
		c.cancel()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wsrpc: dial %s: %w (last error: %v)", url, ctx.Err(), err)
		}
		return nil, fmt.Errorf("wsrpc: dial %s: %w", url, err)
	}
	c.setChannel(ch)
	c.super.Add(1)
	go c.supervise(ch)
	return c, nil
}

// connect makes one connection attempt (BEHAVIOUR.md §5.1).
func (c *Client) connect(ctx context.Context) (*Channel, error) {
	dctx := ctx
	if d := c.cfg.HandshakeTimeout; d > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	url := c.urls[c.cur]
	wc, proto, err := dial(dctx, url, c.cfg)
	if err != nil {
		c.rotate()
		return nil, err
	}
	if proto == "" && len(c.cfg.subprotocols()) > 0 {
		c.cfg.Logger.Warn("wsrpc: server selected no subprotocol", "url", url)
	}
	ch := newChannel(wc, c.cfg, c.methods, proto, nil)
	ch.startKeepalive() // (its handlers.Add before the reading starts)
	ch.start()
	if c.cfg.ReadinessCheck {
		for i := 0; i < 5; i++ {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			err := ch.Ping(pctx, true)
			cancel()
			if err == nil || ch.isClosed() || ctx.Err() != nil {
				break
			}
		}
		if ch.isClosed() || ctx.Err() != nil {
			ch.skipConnectHook()
			_ = ch.Close()
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, ch.Err()
		}
	}
	return ch, nil
}

// rotate moves the next connection attempt to another URL (Config.FallbackURLs), chosen
// at random among the others: the clients of a server that died spread over the rest
// instead of all moving to the same next one.
func (c *Client) rotate() {
	if n := len(c.urls); n > 1 {
		c.cur = (c.cur + 1 + rand.IntN(n-1)) % n
	}
}

// setChannel makes ch the current connection, then runs the connect hook (so that calls
// made by the hook, through the Client or the Channel, go out on it).
func (c *Client) setChannel(ch *Channel) {
	c.mu.Lock()
	c.ch = ch
	c.established++
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	ch.runConnectHook()
}

// supervise waits for each connection to end and reconnects when configured to.
func (c *Client) supervise(ch *Channel) {
	defer c.super.Done()
	for {
		select {
		case <-ch.Done():
		case <-c.ctx.Done():
			_ = ch.Close()
			return
		}
		err := ch.Err()
		ch.wait()
		c.channelEnded(ch)
		if c.ctx.Err() != nil {
			return
		}
		code := CloseCode(err)
		switch {
		case !c.cfg.Reconnect.Enabled:
			c.finish(err)
			return
		case code != -1 && !IsRetryableCloseCode(code):
			c.cfg.Logger.Error("wsrpc: connection closed with a non-retryable code", "code", code, "err", err)
			c.finish(err)
			return
		case errors.Is(err, errIdle):
			c.finish(err)
			return
		}
		if code == 1012 {
			c.cfg.Logger.Info("wsrpc: server restart (close code 1012), reconnecting", "url", c.url)
		}
		c.rotate() // with fallback URLs, try another server first
		next, rerr := c.reconnect(err)
		if rerr != nil {
			c.finish(fmt.Errorf("wsrpc: reconnect to %s failed: %w (connection lost: %v)", c.url, rerr, err))
			return
		}
		c.setChannel(next)
		ch = next
	}
}

func (c *Client) reconnect(cause error) (*Channel, error) {
	var ch *Channel
	attempt := 0
	b := &reconnectBackOff{cfg: c.cfg.Reconnect}
	b.Reset()
	lastErr := cause
	for {
		d := b.NextBackOff()
		if d == backoff.Stop {
			return nil, lastErr
		}
		attempt++
		if fn := c.cfg.OnReconnect; fn != nil {
			safeHook(c.cfg, "OnReconnect", func() { fn(attempt, d, lastErr) })
		}
		c.cfg.Logger.Info("wsrpc: reconnecting", "url", c.urls[c.cur], "attempt", attempt, "in", d)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return nil, ErrClosed
		}
		var err error
		ch, err = c.connect(c.ctx)
		if err == nil {
			if c.ctx.Err() != nil {
				ch.skipConnectHook()
				_ = ch.Close()
				return nil, ErrClosed
			}
			return ch, nil
		}
		if c.ctx.Err() != nil {
			return nil, ErrClosed
		}
		lastErr = err
	}
}

// finish closes the client for good after its connection ended.
func (c *Client) finish(err error) {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		c.closeErr = err
		close(c.changed)
		c.changed = make(chan struct{})
		close(c.done)
	}
	c.mu.Unlock()
	c.cancel()
}

// Channel returns the current connection's Channel (nil while none is open).
func (c *Client) Channel() *Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil || c.ch.isClosed() {
		return nil
	}
	return c.ch
}

// Methods returns the client's own method set; methods added to it later are callable too.
func (c *Client) Methods() *Methods { return c.methods }

// Done is closed when the client has closed for good (Close, or the connection ended and
// was not, or could not be, re-established).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client closed, or nil while it is open.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// channel returns an open channel, waiting for a reconnect unless FailFast.
func (c *Client) channel(ctx context.Context) (*Channel, error) {
	for {
		c.mu.Lock()
		ch, changed, closed, cerr := c.ch, c.changed, c.closed, c.closeErr
		c.mu.Unlock()
		if closed {
			// Nothing will be sent: the error matches ErrClosed only, whatever closed the
			// client (see Err for the cause).
			if cerr == nil || cerr == ErrClosed {
				return nil, ErrClosed
			}
			return nil, fmt.Errorf("%w: client closed after: %v", ErrClosed, cerr)
		}
		if ch != nil && !ch.isClosed() {
			return ch, nil
		}
		if c.cfg.FailFast {
			return nil, ErrNotConnected
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, wrapCtx(ctx, "waiting for a connection")
		}
	}
}

// notSent reports whether err says a message was refused before anything was written
// because its channel had just closed: safe to try again on the next connection.
func notSent(err error) bool {
	return errors.Is(err, ErrClosed) && !errors.Is(err, ErrConnectionLost)
}

// Go starts a call without waiting; see Channel.Go. While the client is reconnecting the
// call waits for the new connection (up to ctx), unless Config.FailFast. A call refused
// because the connection closed before it was sent goes out on the next connection.
func (c *Client) Go(ctx context.Context, method string, params any, opts ...CallOption) (*Pending, error) {
	if len(c.cfg.OutgoingInterceptors) > 0 {
		call := &OutgoingCall{Method: method, Params: params, Async: true, cl: c, opts: opts}
		if err := c.cfg.interceptors().clGo(ctx, call); err != nil {
			return nil, err
		}
		return call.p, nil
	}
	return c.startCall(ctx, method, params, false, opts, nil)
}

func (c *Client) startCall(ctx context.Context, method string, params any, waited bool, opts []CallOption, meta map[string]string) (*Pending, error) {
	for {
		ch, err := c.channel(ctx)
		if err != nil {
			return nil, err
		}
		p, err := ch.startCall(ctx, method, params, waited, opts, meta)
		if err != nil && notSent(err) && c.ctx.Err() == nil {
			continue
		}
		return p, err
	}
}

// Call calls method on the server and waits for the answer; see Channel.Call and Go.
func (c *Client) Call(ctx context.Context, method string, params any, result any, opts ...CallOption) error {
	if len(c.cfg.OutgoingInterceptors) > 0 {
		return c.cfg.interceptors().clCall(ctx, &OutgoingCall{Method: method, Params: params, cl: c, result: result, opts: opts})
	}
	return c.call(ctx, method, params, result, opts, nil)
}

func (c *Client) call(ctx context.Context, method string, params any, result any, opts []CallOption, meta map[string]string) error {
	p, err := c.startCall(ctx, method, params, true, opts, meta)
	if err != nil {
		return err
	}
	return p.Wait(ctx, result)
}

// Notify sends a notification to the server; see Channel.Notify and Go.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	if len(c.cfg.OutgoingInterceptors) > 0 {
		return c.cfg.interceptors().clNotify(ctx, &OutgoingCall{Method: method, Params: params, Notification: true, cl: c})
	}
	return c.notify(ctx, method, params, nil)
}

func (c *Client) notify(ctx context.Context, method string, params any, meta map[string]string) error {
	for {
		ch, err := c.channel(ctx)
		if err != nil {
			return err
		}
		err = ch.notify(ctx, method, params, meta)
		if err != nil && notSent(err) && c.ctx.Err() == nil {
			continue
		}
		return err
	}
}

// Close closes the connection (status 1000), fails pending calls with ErrClosed, stops
// reconnecting, and waits for the client's goroutines. It is idempotent, and bounded in
// time whatever the peer does (the close handshake waits at most a second, then the TCP
// connection is dropped; running handlers get Config.CloseGrace). Called from the
// OnDisconnect hook, it returns without waiting: the client's goroutines end once the
// hook returns.
func (c *Client) Close() error {
	c.mu.Lock()
	ch := c.ch
	already := c.closed
	if !c.closed {
		c.closed = true
		c.closeErr = ErrClosed
		close(c.changed)
		c.changed = make(chan struct{})
		close(c.done)
	}
	c.mu.Unlock()
	c.cancel()
	if ch != nil && !already {
		_ = ch.Close()
	}
	if ch != nil && ch.inHook.Load() {
		// Called from the disconnect hook: the goroutine running it finishes closing once
		// the hook returns (waiting for it here would wait for ourselves).
		return nil
	}
	c.super.Wait()
	if ch != nil {
		ch.wait()
	}
	return nil
}

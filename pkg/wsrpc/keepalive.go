package wsrpc

import (
	"context"
	"fmt"
	"time"
)

// startKeepalive starts the keepalive, unless it is off.
func (c *Channel) startKeepalive() {
	if c.cfg.keepaliveInterval() > 0 {
		c.handlers.Add(1)
		go c.keepalive()
	}
}

// keepalive checks the connection every interval and drops it after MaxFailures
// consecutive failures (BEHAVIOUR.md §7). It calls handlers.Done when it ends.
func (c *Channel) keepalive() {
	defer c.handlers.Done()
	k := c.cfg.Keepalive
	interval := c.cfg.keepaliveInterval()
	t := time.NewTicker(interval)
	defer t.Stop()
	// The ping's timeout also bounds the library's write of the ping frame (a write whose
	// context ends closes the connection): never under a second, which a busy connection
	// can take to get a frame out.
	timeout := max(min(interval/2, 10*time.Second), time.Second)
	maxFailures := max(k.MaxFailures, 1)
	failures := 0
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, timeout)
		err := c.Ping(ctx, k.RPCPing)
		cancel()
		if c.isClosed() {
			return
		}
		if err == nil {
			failures = 0
			continue
		}
		failures++
		c.cfg.Logger.Warn("wsrpc: keepalive check failed", "channel", c.id, "failures", failures, "err", err)
		if failures >= maxFailures {
			c.shutdown(fmt.Errorf("%w: %w: keepalive failed %d times in a row", ErrConnectionLost, ErrKeepalive, failures), 1000, "keepalive failed", false)
			return
		}
	}
}

// Ping checks that the peer answers: with a WebSocket ping where the platform has it (not
// in browsers), or with the JSON-RPC "ping" method (expecting "pong") when rpc is true.
func (c *Channel) Ping(ctx context.Context, rpc bool) error {
	if p, ok := c.conn.(pinger); ok && !rpc {
		if err := p.Ping(ctx); err != nil {
			if cerr := c.Err(); cerr != nil {
				return fmt.Errorf("wsrpc: ping: %w (%v)", cerr, err)
			}
			if ctx.Err() != nil {
				return wrapCtx(ctx, "ping")
			}
			return fmt.Errorf("wsrpc: ping: %w", err)
		}
		return nil
	}
	var res string
	if err := c.call(ctx, c.pingMethod(), nil, &res, nil, nil); err != nil { // (not intercepted: the library's own)
		return err
	}
	if res != "pong" {
		return fmt.Errorf("wsrpc: ping answered %q, want \"pong\"", res)
	}
	return nil
}

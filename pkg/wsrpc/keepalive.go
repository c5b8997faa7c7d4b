package wsrpc

import (
	"context"
	"fmt"
	"time"
)

// keepalive checks the connection every interval and drops it after MaxFailures
// consecutive failures (BEHAVIOUR.md §7). It calls handlers.Done when it ends.
func (c *Channel) keepalive(k KeepaliveConfig) {
	defer c.handlers.Done()
	t := time.NewTicker(k.Interval)
	defer t.Stop()
	timeout := min(k.Interval/2, 10*time.Second)
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
		if failures >= k.MaxFailures {
			c.shutdown(fmt.Errorf("%w: keepalive failed %d times in a row", ErrConnectionLost, failures), 1000, "keepalive failed", false)
			return
		}
	}
}

// Ping checks that the peer answers: with a WebSocket ping where the platform has it (not
// in browsers), or with the JSON-RPC "ping" method (expecting "pong") when rpc is true.
func (c *Channel) Ping(ctx context.Context, rpc bool) error {
	if p, ok := c.conn.(pinger); ok && !rpc {
		c.resumeReading() // the pong must be read
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("wsrpc: ping: %w", err)
		}
		return nil
	}
	var res string
	if err := c.Call(ctx, c.pingMethod(), nil, &res); err != nil {
		return err
	}
	if res != "pong" {
		return fmt.Errorf("wsrpc: ping answered %q, want \"pong\"", res)
	}
	return nil
}

package wsrpc

import "context"

// GoWaited is Go for a caller that collects the answer itself with Pending.Wait, however
// long it takes to get round to it: the call is registered as waited-for, so its answer is
// kept (an uncollected Go answer is dropped after 60 s). The C API uses it to let a caller
// wait in slices (on Pending.Done) without a goroutine per call. A caller that gives up
// must still call Wait (with a cancelled context) to forget the call.
func (c *Channel) GoWaited(ctx context.Context, method string, params any, opts ...CallOption) (*Pending, error) {
	return c.startCall(ctx, method, params, true, opts, nil)
}

// GoWaited is Channel.GoWaited on the current connection; see Client.Go.
func (c *Client) GoWaited(ctx context.Context, method string, params any, opts ...CallOption) (*Pending, error) {
	return c.startCall(ctx, method, params, true, opts, nil)
}

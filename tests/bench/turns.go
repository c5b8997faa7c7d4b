package main

import (
	"context"
	"net/http"

	"github.com/wsrpc/wsrpc/pkg/wsrpc"
)

// A turn is one variant of a measurement taken in turn with others (see interleaved).
type turn struct {
	name string
	open func() (load, func(), error)
	base int // index of the turn this one is a ratio to (its own index: a baseline)
}

// measureTurns opens the turns, measures them in turn (rounds rounds), closes them and
// adds a row for each (proto gives the section, shape and unit), with its ratio to its
// baseline. scale, if set, turns calls/s into the row's unit.
func measureTurns(rep *report, t timings, rounds int, proto row, scale float64, ts []turn) []*row {
	loads := make([]load, len(ts))
	errs := make([]error, len(ts))
	for i, x := range ts {
		ld, closeFn, err := x.open()
		if err != nil {
			errs[i] = err
			continue
		}
		defer closeFn()
		loads[i] = ld
	}
	res := interleaved(t, rounds, loads)
	rows := make([]*row, len(ts))
	for i, x := range ts {
		if errs[i] != nil {
			res[i] = result{Err: errs[i].Error()}
		}
		if scale > 0 {
			res[i].Rate *= scale
		}
		r := proto
		r.Name, r.result = x.name, res[i]
		rows[i] = rep.add(r)
		if x.base != i {
			rows[i].ratioTo(rows[x.base])
		}
	}
	return rows
}

// rawGenTurn opens a raw generator of w's requests (hc: see dialRawWith).
func rawGenTurn(url string, conns, perConn int, w workload, hc *http.Client) func() (load, func(), error) {
	return func() (load, func(), error) {
		g, err := newRawGenWith(url, conns, perConn, w, hc)
		if err != nil {
			return nil, nil, err
		}
		return g.start, g.close, nil
	}
}

// wsTurn opens wsrpc clients calling call (nil: concat).
func wsTurn(url string, conns, perConn int, call func(ctx context.Context, c *wsrpc.Client) error, opts ...wsrpc.Option) func() (load, func(), error) {
	return func() (load, func(), error) {
		c, err := newWSClients(url, conns, perConn, opts...)
		if err != nil {
			return nil, nil, err
		}
		c.call = call
		return c.start, c.close, nil
	}
}

package main

// Section 10: many connections with one call in flight on each, the raw generator against
// the wsrpc server and against the raw echo.

const manyConns = 1000

func manyConnections(rep *report, o options, echoURL, wsURL string) {
	n := manyConns
	if o.smoke {
		n = 100
	}
	s := spec{n, 1}
	measureTurns(rep, o.t, 3, row{Section: "10", Shape: s.String(), Conns: s.conns, InFlight: s.inflight()}, 0, []turn{
		{nameRawEcho, rawGenTurn(echoURL, s.conns, s.perConn, concatWork, nil), 0},
		{nameServerSide, rawGenTurn(wsURL, s.conns, s.perConn, concatWork, nil), 0},
	})
}

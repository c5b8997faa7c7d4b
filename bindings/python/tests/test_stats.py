"""Stats: the core's counters, from Client.stats() and Server.stats()."""
from __future__ import annotations

import pytest
from test_batch import server  # noqa: F401  (the fixture: a server with add, refuse, note)

import wsrpc


def test_stats_counters_move(server) -> None:
    c = wsrpc.Client(server.url)
    try:
        assert c.stats()["calls_out"] == 0 and c.stats()["connections"] == 0  # not connected
        c.connect()
        before, srv_before = c.stats(), server.stats()
        assert before["connections"] == 1 and before["reconnects"] == 0
        for i in range(10):
            assert c.call("add", i, 1) == i + 1
        with pytest.raises(wsrpc.RpcError):
            c.call("refuse", "x")
        c.notify("note", 1)
        b = c.batch()
        b.call("add", 1, 1)
        b.call("add", 2, 2)
        b.send()
        after = c.stats()
        assert after["calls_out"] == before["calls_out"] + 13
        assert after["errors_in"] == before["errors_in"] + 1
        assert after["notifications_out"] == before["notifications_out"] + 1
        assert after["bytes_out"] > before["bytes_out"] and after["bytes_in"] > before["bytes_in"]
        assert after["in_flight_out"] == 0
        srv = server.stats()
        assert srv["calls_in"] >= srv_before["calls_in"] + 13 and srv["connections"] >= 1
        assert set(srv) == set(after)
    finally:
        c.close()
    with pytest.raises(wsrpc.ConnectionClosed):
        c.stats()

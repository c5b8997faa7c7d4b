"""Python<->Python sanity run of the harness (proves the harness before any Go code).

    VENV/bin/python -m pytest -q tests/interop/py/test_python_pairs.py

Every process is started on a free loopback port and killed afterwards.
"""
import os
import subprocess
import sys
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable


class Srv:
    def __init__(self, script, *flags):
        self.p = subprocess.Popen([PY, os.path.join(HERE, script), "--port", "0", "--lifetime", "120", *flags],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.p.stdout.readline()
        assert line.startswith("LISTENING"), line
        self.port = int(line.split()[1])

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()


def run(script, *args, timeout=120):
    return subprocess.run([PY, os.path.join(HERE, script), *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("srv_flags,client_flags", [
    ((), ()),
    (("--debug", "--on-connect-call", "whoami", "--sync-channel-id"), ("--expect-debug", "--expect-on-connect")),
    (("--token", "t0k", "--subprotocols", "custom.v1,jsonrpc2.0"), ("--token", "t0k", "--subprotocols", "custom.v1")),
])
def test_ws_rpc_pair(srv_flags, client_flags):
    s = Srv("server_ws_rpc.py", *srv_flags)
    try:
        r = run("client_ws_rpc.py", f"ws://127.0.0.1:{s.port}/ws", *client_flags)
    finally:
        s.stop()
    assert r.returncode == 0, r.stdout[-3000:]
    assert r.stdout.strip().endswith("0 failed")


def test_ws_rpc_bad_token_is_403():
    s = Srv("server_ws_rpc.py", "--token", "t0k")
    try:
        r = run("client_ws_rpc.py", f"ws://127.0.0.1:{s.port}/ws", "--token", "nope")
    finally:
        s.stop()
    assert r.returncode == 2 and "HTTP 403" in r.stdout


def test_legacy_pair():
    s = Srv("legacy_server.py")
    try:
        r = run("legacy_client.py", f"ws://127.0.0.1:{s.port}/ws", "--destructive")
    finally:
        s.stop()
    assert r.returncode == 0, r.stdout[-3000:]


def test_pubsub_publisher_and_http_trigger():
    s = Srv("pubsub_server.py")
    try:
        r = run("pubsub_publisher.py", f"ws://127.0.0.1:{s.port}/pubsub", "--topic", "t", "--count", "3",
                "--no-wait", "--timeout", "15")
        assert r.returncode == 0 and "PUBLISHED 3" in r.stdout, r.stderr[-2000:]
        req = urllib.request.Request(f"http://127.0.0.1:{s.port}/publish?topic=t&count=2", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
    finally:
        s.stop()

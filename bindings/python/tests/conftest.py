"""Fixtures: the Go example server, a real fastapi-ws-rpc server, free ports."""
from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
BIN = Path(os.environ.get("WSRPC_TEST_BIN", REPO / "build" / "bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_go_server(wait: str) -> Iterator[str]:
    exe = BIN / "bidi-server"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make build` first")
    port = free_port()
    proc = subprocess.Popen([str(exe), "-addr", f"127.0.0.1:{port}", "-wait", wait],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def go_server() -> Iterator[str]:
    """The Go bidirectional example server (calls allow_queries ~0.3 s after connect and
    allow_exit(delay) after each concat)."""
    yield from run_go_server("300ms")


@pytest.fixture(scope="module")
def go_instant_server() -> Iterator[str]:
    """The Go bidirectional example server calling allow_queries the instant a client
    connects (-wait 0s)."""
    yield from run_go_server("0s")


@pytest.fixture(scope="module")
def fastapi_server() -> Iterator[str]:
    """A server on the real fastapi-ws-rpc 1.2 library (tests/fastapi_server.py)."""
    yield from run_fastapi_server()


@pytest.fixture(scope="module")
def fastapi_instant_server() -> Iterator[str]:
    """The same, calling the client's allow_queries() the instant it connects."""
    yield from run_fastapi_server("--call-on-connect", "allow_queries")


@pytest.fixture(scope="module")
def go_cancel_server() -> Iterator[str]:
    """tests/cancelserver: a Go handler (wait_cancel) that records when its context ends."""
    exe = BIN / "wsrpc-cancel-testserver"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make test-python`")
    yield from run_listening([str(exe)])


def run_fastapi_server(*args: str) -> Iterator[str]:
    yield from run_listening([sys.executable, str(HERE / "fastapi_server.py"), "--lifetime", "300", *args])


def run_listening(cmd: list) -> Iterator[str]:
    """Run a server that prints "LISTENING <port>" once it serves; yield its URL."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else ""
        if not line.startswith("LISTENING "):
            raise RuntimeError(f"{cmd[-1]} did not start: {line!r}")
        yield f"ws://127.0.0.1:{int(line.split()[1])}/ws"
    finally:
        stop(proc)

#!/usr/bin/env python3
"""The bidirectional client example without asyncio: plain functions and threads.

The methods are registered with decorators on a client that is not connected yet; `with`
connects, so the server may call them the instant the connection is up. Ctrl-C interrupts a
waiting call.

    python examples/python/sync_client.py --url ws://127.0.0.1:9000/ws
"""
import argparse
import threading

import wsrpc


def main(url: str) -> None:
    can_query, can_exit = threading.Event(), threading.Event()
    client = wsrpc.Client(url, default_response_timeout=10)

    @client.method()
    def allow_queries() -> None:  # runs on a library thread
        print("server called allow_queries()", flush=True)
        can_query.set()

    @client.method()
    def allow_exit(delay: float) -> None:
        print(f"server called allow_exit(delay={delay})", flush=True)
        threading.Timer(delay, can_exit.set).start()

    with client:
        if not can_query.wait(10):
            raise SystemExit("the server did not call allow_queries()")
        result = client.call("concat", a="hello", b=" world")
        print(f"concat('hello', ' world') = {result!r}", flush=True)
        if not can_exit.wait(10):
            raise SystemExit("the server did not call allow_exit()")
        print("exiting, as the server allowed", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:9000/ws")
    main(parser.parse_args().url)

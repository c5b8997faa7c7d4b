#!/usr/bin/env python3
"""Subscribe to topic T through a pub/sub server with the REAL fastapi_websocket_pubsub
PubSubClient and print every event.

    pubsub_subscriber.py URL --topic T --count N [--timeout S]

1. connects (URL like ws://127.0.0.1:PORT/pubsub), subscribes to T and prints ``READY``
   once the server acknowledged the subscription;
2. prints one JSON line per event received: {"topic": T, "data": <event data>};
3. exits 0 after N events (1 on timeout).
"""
import argparse
import asyncio
import json
import sys

from fastapi_websocket_pubsub import PubSubClient


async def amain(args) -> int:
    got = 0
    done = asyncio.Event()

    async def on_event(data=None, topic=None, **_):
        nonlocal got
        got += 1
        print(json.dumps({"topic": topic, "data": data}), flush=True)
        if got >= args.count:
            done.set()

    client = PubSubClient(server_uri=args.url)
    client.subscribe(args.topic, on_event)
    async with client:
        await asyncio.wait_for(client.wait_until_ready(), args.timeout)
        print("READY", flush=True)
        await asyncio.wait_for(done.wait(), args.timeout)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="fastapi_websocket_pubsub subscriber")
    parser.add_argument("url")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    try:
        rc = asyncio.run(amain(args))
    except Exception as exc:  # noqa: BLE001
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        rc = 1
    sys.exit(rc)


if __name__ == "__main__":
    main()

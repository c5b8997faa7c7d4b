#!/usr/bin/env python3
"""Publish N events to topic T through a pub/sub server, using the REAL
fastapi_websocket_pubsub PubSubClient.

    pubsub_publisher.py URL --topic T --count N [--delay S] [--no-wait]
                        [--timeout S]

1. connects (URL like ws://127.0.0.1:PORT/pubsub) and prints ``READY``;
2. waits to be told: reads one line from stdin (any text, e.g. "go") -
   or, with --delay S, just sleeps S seconds; --no-wait publishes at once;
3. publishes events i = 0..N-1 one by one, each with
   data = {"seq": i, "topic": T, "source": "python-publisher"} and sync=True
   (the server answers only after every subscriber's `notify` call has been
   answered), prints ``PUBLISHED N`` and exits 0 (1 on error/timeout).
"""
import argparse
import asyncio
import sys

from fastapi_websocket_pubsub import PubSubClient


async def amain(args) -> int:
    client = PubSubClient(server_uri=args.url)
    async with client:
        await asyncio.wait_for(client.wait_until_ready(), args.timeout)
        print("READY", flush=True)
        if args.delay is not None:
            await asyncio.sleep(args.delay)
        elif not args.no_wait:
            line = await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline), args.timeout)
            if line == "":
                print("stdin closed before the go signal", file=sys.stderr)
                return 1
        for i in range(args.count):
            ok = await asyncio.wait_for(
                client.publish([args.topic], data={"seq": i, "topic": args.topic,
                                                   "source": "python-publisher"}),
                args.timeout)
            if not getattr(ok, "result", False):
                print(f"publish {i} failed: {ok}", file=sys.stderr)
                return 1
        print(f"PUBLISHED {args.count}", flush=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="fastapi_websocket_pubsub publisher")
    parser.add_argument("url")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--delay", type=float, default=None)
    parser.add_argument("--no-wait", action="store_true")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    try:
        rc = asyncio.run(asyncio.wait_for(amain(args), args.timeout * 4))
    except Exception as exc:  # noqa: BLE001
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        rc = 1
    sys.exit(rc)


if __name__ == "__main__":
    main()

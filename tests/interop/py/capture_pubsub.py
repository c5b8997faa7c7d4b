#!/usr/bin/env python3
"""Capture REAL pub/sub wire frames into frames/pubsub_*.json.

    capture_pubsub.py [--out DIR]

1. pubsub_flow: a raw `websockets` subscriber talks to pubsub_server.py
   (subscribe, then receives the server's `notify` calls while the REAL
   pubsub_publisher.py publishes 2 events, and answers them).
2. pubsub_raw_publish: a raw publisher connection sends the `publish` request the
   library client sends, the raw subscriber answers the resulting notify.
3. pubsub_client_frames: a REAL PubSubClient subscriber connected to a fake
   recording server, to capture exactly what the library client sends
   (readiness _ping_, subscribe) and how it answers a notify.
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture_frames import HERE, PY, Server  # noqa: E402


def env(method, arguments, call_id):
    return {"request": {"method": method, "arguments": arguments, "call_id": call_id}, "response": None}


def reply(result, result_type, call_id):
    return {"request": None, "response": {"result": result, "result_type": result_type, "call_id": call_id}}


class Recorder:
    def __init__(self):
        self.transcript = []

    async def send(self, ws, who, obj):
        text = json.dumps(obj)
        await ws.send(text)
        self.transcript.append({"dir": f"{who} -> server", "frame": obj, "raw": text})

    async def recv(self, ws, who, timeout=5.0):
        text = await asyncio.wait_for(ws.recv(), timeout)
        obj = json.loads(text)
        self.transcript.append({"dir": f"server -> {who}", "frame": obj, "raw": text})
        return obj


async def pubsub_flow(server: Server) -> dict:
    rec = Recorder()
    url = server.url("/pubsub")
    async with connect(url, compression=None, open_timeout=10) as sub:
        await rec.send(sub, "subscriber", env("subscribe", {"topics": ["t1"]}, "sub-1"))
        await rec.recv(sub, "subscriber")
        pub = subprocess.Popen([PY, os.path.join(HERE, "pubsub_publisher.py"), url, "--topic", "t1",
                                "--count", "2", "--timeout", "15"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert pub.stdout.readline().strip() == "READY"
            pub.stdin.write("go\n")
            pub.stdin.flush()
            for _ in range(2):
                msg = await rec.recv(sub, "subscriber", 10)
                req = msg["request"]
                # answer exactly like the library's subscriber (RpcEventClientMethods.notify
                # returns None with no annotation -> str(None))
                await rec.send(sub, "subscriber", reply("None", "str", req["call_id"]))
            done = await asyncio.get_running_loop().run_in_executor(None, pub.stdout.readline)
            rec.transcript.append({"note": f"publisher printed: {done.strip()}"})
        finally:
            pub.wait(20)
    return {"name": "pubsub_flow", "server": "pubsub_server.py",
            "description": "raw subscriber + REAL pubsub_publisher.py (2 events on t1)",
            "transcript": rec.transcript}


async def pubsub_raw_publish(server: Server) -> dict:
    rec = Recorder()
    url = server.url("/pubsub")
    async with connect(url, compression=None) as sub, connect(url, compression=None) as pub:
        await rec.send(sub, "subscriber", env("subscribe", {"topics": ["t2"]}, "sub-2"))
        await rec.recv(sub, "subscriber")
        await rec.send(pub, "publisher", env("publish", {"topics": ["t2"], "data": {"n": 1},
                                                          "sync": True, "notifier_id": None}, "pub-1"))
        note = await rec.recv(sub, "subscriber")
        await rec.send(sub, "subscriber", reply("None", "str", note["request"]["call_id"]))
        await rec.recv(pub, "publisher")
        # unsubscribe round trip
        await rec.send(sub, "subscriber", env("unsubscribe", {"topics": ["t2"]}, "unsub-1"))
        await rec.recv(sub, "subscriber")
    return {"name": "pubsub_raw_publish", "server": "pubsub_server.py",
            "description": "raw publisher publishes (sync=true); publish reply only after the subscriber answered notify",
            "transcript": rec.transcript}


async def pubsub_client_frames() -> dict:
    """Run a fake server to see what the REAL PubSubClient sends."""
    from fastapi_websocket_pubsub import PubSubClient

    transcript = []
    got_notify_reply = asyncio.Event()
    received = []

    async def handler(ws):
        transcript.append({"note": f"client offered subprotocol header: {ws.request.headers.get('Sec-WebSocket-Protocol')}"})
        async for text in ws:
            obj = json.loads(text)
            transcript.append({"dir": "client -> server", "frame": obj, "raw": text})
            req = obj.get("request")
            if req and req["method"] == "_ping_":
                out = reply("pong", "str", req["call_id"])
            elif req and req["method"] == "subscribe":
                out = reply(True, "bool", req["call_id"])
            else:
                out = None
            if out:
                await ws.send(json.dumps(out))
                transcript.append({"dir": "server -> client", "frame": out, "raw": json.dumps(out)})
            if req and req["method"] == "subscribe":
                notify = env("notify", {"subscription": {"id": "0f" * 16, "subscriber_id": "ab" * 16,
                                                         "topic": "t3", "notifier_id": "cd" * 16},
                                        "data": {"hello": "world"}}, "srv-call-1")
                await ws.send(json.dumps(notify))
                transcript.append({"dir": "server -> client", "frame": notify, "raw": json.dumps(notify)})
            if obj.get("response"):
                got_notify_reply.set()

    async with serve(handler, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]

        async def on_event(data, topic):
            received.append({"topic": topic, "data": data})

        client = PubSubClient(["t3"], callback=on_event, server_uri=f"ws://127.0.0.1:{port}/pubsub")
        async with client:
            await asyncio.wait_for(got_notify_reply.wait(), 15)
            await asyncio.sleep(0.2)
    return {"name": "pubsub_client_frames", "server": "fake recording server",
            "description": "frames sent by a REAL PubSubClient(['t3']) subscriber, and its reply to notify",
            "callback_received": received, "transcript": transcript}


async def amain(out_dir):
    server = Server("pubsub_server.py")
    try:
        results = [await pubsub_flow(server), await pubsub_raw_publish(server)]
    finally:
        server.stop()
    results.append(await pubsub_client_frames())
    for r in results:
        with open(os.path.join(out_dir, r["name"] + ".json"), "w") as fh:
            fh.write(json.dumps(r, indent=2, ensure_ascii=False).replace(HERE, "<dir>") + "\n")
        print(r["name"], len(r["transcript"]), "transcript entries")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(HERE, "frames"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    asyncio.run(asyncio.wait_for(amain(args.out), 120))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Pub/sub interop server: REAL fastapi_websocket_pubsub PubSubEndpoint at /pubsub.

    pubsub_server.py [--port N] [--lifetime S] [--log-level L]

* PubSubEndpoint (legacy fastapi_websocket_rpc envelope, no subprotocol) mounted
  at ``/pubsub`` on 127.0.0.1; prints ``LISTENING <port>`` once serving.
* Convenience HTTP trigger for tests that do not want to run a publisher client:
  ``POST /publish?topic=T&count=N`` publishes N events server-side
  (data = {"seq": i, "topic": T, "source": "server"}, i = 0..N-1) and returns
  {"published": N}.  ``GET /healthz`` -> {"ok": true}.
Wire frames: see ../FINDINGS.md ("Pub/sub").
"""
import argparse
import os
import sys

from fastapi import FastAPI, WebSocket

from fastapi_websocket_pubsub import PubSubEndpoint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import add_common_args, run_app  # noqa: E402


def build_app() -> FastAPI:
    app = FastAPI()
    endpoint = PubSubEndpoint()

    @app.websocket("/pubsub")
    async def pubsub(websocket: WebSocket):
        await endpoint.main_loop(websocket)

    @app.post("/publish")
    async def publish(topic: str, count: int = 1):
        for i in range(count):
            await endpoint.publish([topic], data={"seq": i, "topic": topic, "source": "server"})
        return {"published": count}

    @app.get("/healthz")
    async def healthz():
        return {"ok": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="fastapi_websocket_pubsub interop server")
    add_common_args(parser)
    args = parser.parse_args()
    run_app(build_app(), args.port, args.lifetime, args.log_level, args.ws_impl)


if __name__ == "__main__":
    main()

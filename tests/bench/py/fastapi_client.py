#!/usr/bin/env python3
"""concat load from the fastapi-ws-rpc 1.2.0 client (WebSocketRpcClient).

    fastapi_client.py URL asyncio INFLIGHT WARMUP_S DURATION_S

INFLIGHT tasks on one connection, each awaiting client.other.concat(a=..., b=...).
"""
import asyncio

from fastapi_ws_rpc import (
    RpcConnectionConfig,
    RpcMethodsBase,
    RpcRetryConfig,
    WebSocketRpcClient,
    WebSocketRpcClientConfig,
)

from _common import Meter, args, run_tasks


async def run(url: str, n: int, warm: float, dur: float, m: Meter) -> None:
    config = WebSocketRpcClientConfig(
        connection=RpcConnectionConfig(default_response_timeout=30),
        retry=RpcRetryConfig(max_attempts=3, max_wait=1.0),
    )
    async with WebSocketRpcClient(url, RpcMethodsBase(), config=config) as client:
        await run_tasks(n, warm, dur, m, lambda: client.other.concat(a="hello", b=" world"),
                        check=lambda r: r.result)


def main() -> None:
    url, _mode, n, warm, dur = args()
    m = Meter()
    try:
        asyncio.run(asyncio.wait_for(run(url, n, warm, dur, m), warm + dur + 60))
    except Exception as exc:  # noqa: BLE001
        m.fail(exc)
    m.report()


if __name__ == "__main__":
    main()

"""WebSocket fan-out, a raw ASGI app: the floor under every framework on this server.

The connection handler keeps uvicorn's `send` in a set while it reads; a task started in the
lifespan encodes {"seq": n, "sent": time.time_ns()} once a second and awaits `send` for every
connection in turn. Nothing between the application and the server.

Served by ws_run.py: uvicorn --loop uvloop --http httptools --ws websockets, one worker.
"""

import asyncio
import json
import time
from typing import Any

sends: set[Any] = set()


async def broadcaster() -> None:
    seq = 0
    loop = asyncio.get_running_loop()
    tick = loop.time()
    while True:
        tick += 1.0
        await asyncio.sleep(max(0.0, tick - loop.time()))
        seq += 1
        message = {
            "type": "websocket.send",
            "text": json.dumps({"seq": seq, "sent": time.time_ns()}),
        }
        for send in list(sends):
            try:
                await send(message)
            except Exception:  # a connection that went away
                sends.discard(send)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        task = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                task = asyncio.create_task(broadcaster())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if task is not None:
                    task.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})
    else:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        sends.add(send)
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sends.discard(send)

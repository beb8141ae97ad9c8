"""WebSocket fan-out, Starlette, as its documentation would have it: the endpoint keeps its
WebSocket in a set while it reads; a task started in the lifespan sends
{"seq": n, "sent": time.time_ns()} to every connection in turn, once a second.

Served by ws_run.py: uvicorn --loop uvloop --http httptools --ws websockets, one worker.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()


async def health(request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def fanout(ws: WebSocket) -> None:
    await ws.accept()
    clients.add(ws)
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        clients.discard(ws)


async def broadcaster() -> None:
    seq = 0
    loop = asyncio.get_running_loop()
    tick = loop.time()
    while True:
        # once a second at a fixed rate (like brace's @app.every and Tornado's
        # PeriodicCallback), not one second after the previous broadcast ended
        tick += 1.0
        await asyncio.sleep(max(0.0, tick - loop.time()))
        seq += 1
        text = json.dumps({"seq": seq, "sent": time.time_ns()})
        for ws in list(clients):
            try:
                await ws.send_text(text)
            except Exception:  # a connection that went away
                clients.discard(ws)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    task = asyncio.create_task(broadcaster())
    yield
    task.cancel()


app = Starlette(
    routes=[Route("/health", health), WebSocketRoute("/ws", fanout)],
    lifespan=lifespan,
)

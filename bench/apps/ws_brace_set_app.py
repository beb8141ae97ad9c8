"""WebSocket fan-out, brace with a plain set of connections (no Channels): the handler keeps
its WebSocket in a set while it reads; a periodic task encodes the message once and sends it
to every connection in turn.

Served by ws_run.py: uvicorn --loop uvloop --http httptools --ws websockets, one worker.
"""

import time

import msgspec

from brace import App
from brace.websockets import WebSocket, WebSocketDisconnect

app = App()
clients: set[WebSocket] = set()
_seq = 0


@app.get("/health")
async def health() -> str:
    return "ok"


@app.websocket("/ws")
async def fanout(ws: WebSocket) -> None:
    await ws.accept()
    clients.add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        clients.discard(ws)


@app.every(1.0, run_at_start=False)
async def broadcast() -> None:
    global _seq
    _seq += 1
    text = msgspec.json.encode({"seq": _seq, "sent": time.time_ns()}).decode()
    for ws in list(clients):
        try:
            await ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError):
            clients.discard(ws)

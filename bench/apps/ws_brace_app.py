"""WebSocket fan-out, brace, the idiomatic way (docs/realtime.md): a Channels("memory://")
subscription per connection, relayed to it with `ws.relaying(...)` while the handler reads
from the client; a periodic task publishes {"seq": n, "sent": time.time_ns()} to the group
every second.

Served by ws_run.py: uvicorn --loop uvloop --http httptools --ws websockets, one worker.
"""

import time

from brace import App
from brace.channels import Channels
from brace.websockets import WebSocket

GROUP = "fanout"
app = App()
channels = Channels("memory://", app=app)
_seq = 0


@app.get("/health")
async def health() -> str:
    return "ok"


@app.websocket("/ws")
async def fanout(ws: WebSocket) -> None:
    await ws.accept()
    async with channels.subscribe(GROUP) as messages, ws.relaying(messages):
        async for _ in ws:  # ends (and unsubscribes) when the client leaves
            pass


@app.every(1.0, run_at_start=False)
async def broadcast() -> None:
    global _seq
    _seq += 1
    await channels.publish(GROUP, {"seq": _seq, "sent": time.time_ns()})

"""WebSocket fan-out, brace, the idiomatic way (docs/realtime.md): a Channels("memory://")
subscription per connection, relayed with `ws.relay` and raced against the client's reads;
a periodic task publishes {"seq": n, "sent": time.time_ns()} to the group every second.

Served by ws_run.py: uvicorn --loop uvloop --http httptools --ws websockets, one worker.
"""

import time

from brace import App
from brace.channels import Channels
from brace.websockets import WebSocket, race

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
    async with channels.subscribe(GROUP) as messages:

        async def from_client() -> None:  # ends (and unsubscribes) when the client leaves
            async for _ in ws:
                pass

        await race(from_client(), ws.relay(messages))


@app.every(1.0, run_at_start=False)
async def broadcast() -> None:
    global _seq
    _seq += 1
    await channels.publish(GROUP, {"seq": _seq, "sent": time.time_ns()})

"""WebSocket fan-out, Tornado on its own server and IOLoop (Tornado's default asyncio loop;
BENCH_TORNADO_UVLOOP=1 for uvloop): handlers keep themselves in a set between open() and
on_close(); a PeriodicCallback writes {"seq": n, "sent": time.time_ns()} to each once a second
(write_message without awaiting, as in Tornado's chat demo).

    python apps/ws_tornado_app.py --port 8000      # ws_run.py pins it to one CPU
"""

import argparse
import asyncio
import json
import os
import time

import tornado.web
import tornado.websocket
from tornado.ioloop import PeriodicCallback

clients: set["FanOut"] = set()
_seq = 0


class Health(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("ok")


class FanOut(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin: str) -> bool:
        return True

    def open(self) -> None:
        clients.add(self)

    def on_message(self, message: str | bytes) -> None:
        pass

    def on_close(self) -> None:
        clients.discard(self)


def broadcast() -> None:
    global _seq
    _seq += 1
    text = json.dumps({"seq": _seq, "sent": time.time_ns()})
    for client in list(clients):
        try:
            client.write_message(text)
        except tornado.websocket.WebSocketClosedError:
            clients.discard(client)


async def main(port: int) -> None:
    app = tornado.web.Application([(r"/health", Health), (r"/ws", FanOut)])
    # uvicorn's default listen backlog, so both servers queue handshakes alike
    app.listen(port, "127.0.0.1", backlog=2048)
    PeriodicCallback(broadcast, 1000).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8000)
    port = ap.parse_args().port
    if os.environ.get("BENCH_TORNADO_UVLOOP") == "1":
        import uvloop

        uvloop.run(main(port))
    else:
        asyncio.run(main(port))

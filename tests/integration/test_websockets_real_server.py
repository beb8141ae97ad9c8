"""WebSockets over a real uvicorn socket: echo, typed messages, refusals, oversized frames,
invalid UTF-8, abrupt disconnects, and a client that never reads (sent to in a loop, or
relayed a channel)."""

import asyncio
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import msgspec
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from brace import App, HTTPError, Query
from brace.channels import Channels, Subscription
from brace.websockets import WebSocket, WebSocketDisconnect

pytestmark = pytest.mark.server


@pytest.fixture(params=["websockets-sansio", "websockets"])
def serve_ws(
    request: pytest.FixtureRequest, serve: Callable[..., str]
) -> Iterator[Callable[[Any], str]]:
    """uvicorn with each of its WebSocket implementations: the sans-I/O one (what `brace run`
    and uvicorn's `auto` choose) and the legacy one (`--ws websockets`), which still works
    with brace but is deprecated by uvicorn and the websockets library."""
    with warnings.catch_warnings():
        if request.param == "websockets":
            warnings.simplefilter("ignore", DeprecationWarning)  # websockets.legacy
            warnings.filterwarnings("ignore", "The `websockets` implementation is deprecated")
        yield lambda app: serve(app, ws=request.param)


class Chat(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(max_length=100)]


state: dict[str, Any] = {"disconnects": 0, "sent": 0, "feeds": [], "feeds_ended": 0}


def make_app() -> App:
    app = App()

    @app.websocket("/echo", max_message_size=64 * 1024)
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            async for message in ws:
                await (
                    ws.send_text(message) if isinstance(message, str) else ws.send_bytes(message)
                )
        finally:  # the client left: seen by the next read, or by a send that failed
            state["disconnects"] += 1

    @app.websocket("/chat", receives=Chat)
    async def chat(ws: WebSocket, name: Annotated[str, Query()] = "anon") -> None:
        await ws.accept()
        async for message in ws.messages():
            await ws.send_json({"name": name, "text": message.text})

    @app.websocket("/private")
    async def private(ws: WebSocket, key: str = "") -> None:
        if key != "secret":
            raise HTTPError(403, "Wrong key.")
        await ws.accept()
        await ws.send_text("in")

    @app.websocket("/firehose")
    async def firehose(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text("x" * 1024)
                state["sent"] += 1
                await asyncio.sleep(0)
        except WebSocketDisconnect:
            state["disconnects"] += 1

    channels = Channels(max_pending=50, app=app)

    @app.websocket("/feed")
    async def feed(ws: WebSocket) -> None:
        await ws.accept()
        async with channels.subscribe("feed") as subscription, ws.relaying(subscription):
            state["feeds"].append(subscription)
            await ws.send_text("ready")
            async for _ in ws:
                pass
        state["feeds_ended"] += 1

    @app.post("/pump")
    async def pump(count: int) -> int:
        for n in range(count):
            await channels.publish("feed", {"n": n, "pad": "x" * 8192})
            if n % 20 == 0:
                await asyncio.sleep(0.001)  # a steady stream a reading client keeps up with
        return count

    @app.get("/health")
    async def health() -> str:
        return "ok"

    return app


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


def test_echo_and_typed_messages(serve_ws: Callable[[Any], str]) -> None:
    base = serve_ws(make_app())
    with connect(ws_url(base, "/echo")) as ws:
        ws.send("héllo")
        assert ws.recv() == "héllo"
        ws.send(b"\x00\xff")
        assert ws.recv() == b"\x00\xff"
    with connect(ws_url(base, "/chat?name=ada")) as ws:
        ws.send('{"text": "hi"}')
        assert msgspec.json.decode(ws.recv()) == {"name": "ada", "text": "hi"}
        ws.send('{"text": 42}')
        assert msgspec.json.decode(ws.recv())["type"] == "error"


def test_refused_handshake_answers_http(serve_ws: Callable[[Any], str]) -> None:
    base = serve_ws(make_app())
    with pytest.raises(InvalidStatus) as refused:
        with connect(ws_url(base, "/private")):
            pass
    assert refused.value.response.status_code == 403
    with connect(ws_url(base, "/private?key=secret")) as ws:
        assert ws.recv() == "in"
    with pytest.raises(InvalidStatus):
        with connect(ws_url(base, "/nowhere")):
            pass


def test_oversized_frames_close_with_1009(serve_ws: Callable[[Any], str]) -> None:
    base = serve_ws(make_app())
    with connect(ws_url(base, "/echo"), max_size=None) as ws:
        ws.send("x" * (64 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_invalid_utf8_text_frames_close_the_connection(serve_ws: Callable[[Any], str]) -> None:
    base = serve_ws(make_app())
    with handshake(base, "/echo") as raw:
        payload = b"\xff\xfe\xfd"
        mask = b"\x01\x02\x03\x04"
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        raw.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)  # a text frame
        reply = raw.recv(1024)
        assert reply[:1] == b"\x88"  # a close frame
        assert int.from_bytes(reply[2:4], "big") == 1007
    assert_still_serving(base)


def test_abrupt_disconnects_and_a_client_that_never_reads(serve_ws: Callable[[Any], str]) -> None:
    base = serve_ws(make_app())
    before = state["disconnects"]
    for _ in range(5):
        with connect(ws_url(base, "/echo")) as ws:
            ws.send("bye")
            ws.socket.close()  # no close handshake: the TCP connection just drops
    # A client that never reads: the server's sends stop when its buffers fill (backpressure),
    # they do not pile up in memory; then the client leaves.
    with handshake(base, "/firehose") as sleeper:  # a raw socket that never reads
        previous, stalled = -1, 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = state["sent"]
            stalled = stalled + 1 if now == previous else 0
            previous = now
            if stalled >= 2:
                break
        assert stalled >= 2, "the server kept sending to a client that does not read"
        sleeper.close()
    deadline = time.monotonic() + 5
    while state["disconnects"] < before + 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state["disconnects"] >= before + 6
    assert_still_serving(base)


def test_a_relayed_client_that_never_reads_holds_bounded_memory(
    serve_ws: Callable[[Any], str],
) -> None:
    import httpx

    base = serve_ws(make_app())
    state["feeds"].clear()
    with handshake(base, "/feed") as sleeper, connect(ws_url(base, "/feed")) as reader:
        assert reader.recv(timeout=5) == "ready"
        deadline = time.monotonic() + 5
        while len(state["feeds"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        count = 2000  # about 16 MB: far more than the sleeper's socket buffers hold
        assert httpx.post(base + "/pump", params={"count": count}, timeout=30).json() == count
        received = []
        while not received or received[-1] != count - 1:
            received.append(msgspec.json.decode(reader.recv(timeout=5))["n"])
        assert received == sorted(received)  # in order, and the reader kept up: nothing lost
        assert len(received) == count
        subscriptions: list[Subscription] = state["feeds"]
        dropped = sorted(s.dropped for s in subscriptions)
        assert dropped[0] == 0  # the reader
        assert dropped[1] > count // 2  # the sleeper: the oldest went, memory stayed bounded
        sleeper.close()
    deadline = time.monotonic() + 5
    while state["feeds_ended"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state["feeds_ended"] >= 2  # both handlers ended with their clients
    assert_still_serving(base)


def handshake(base: str, path: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    raw = socket.create_connection((host, int(port)), timeout=5)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.sendall(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert b"101" in raw.recv(256)
    return raw


def assert_still_serving(base: str) -> None:
    import httpx

    assert httpx.get(base + "/health", timeout=5).text == "ok"

"""Server-sent events, background tasks, periodic tasks and in-process channels."""

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest

from brace import App, Header, HTTPError
from brace.background import BackgroundTasks
from brace.channels import Channels
from brace.sse import Event, EventStream, encode_event
from brace.testing import AsyncTestClient, TestClient


def test_event_encoding_and_injection() -> None:
    assert encode_event("hello") == b"data: hello\n\n"
    assert encode_event({"a": 1}) == b'data: {"a":1}\n\n'
    assert encode_event(Event("two\nlines", event="note", id="7", retry=3000)) == (
        b"id: 7\nevent: note\nretry: 3000\ndata: two\ndata: lines\n\n"
    )
    forged = encode_event(Event("x", event="a\n\ndata: evil", id="1\r\nevent: evil"))
    assert forged.count(b"\n\n") == 1 and b"\nevent: evil" not in forged
    assert encode_event(Event(comment="ping")) == b": ping\n\n"


def test_event_stream_with_last_event_id() -> None:
    app = App()

    @app.get("/feed")
    async def feed(
        last: Annotated[str | None, Header(alias="last-event-id")] = None,
    ) -> EventStream:
        start = int(last) + 1 if last and last.isdigit() else 0

        async def events() -> AsyncIterator[Event]:
            for n in range(start, 3):
                yield Event({"n": n}, id=str(n), event="tick")

        return EventStream(events(), retry=2000)

    with TestClient(app) as client:
        r = client.get("/feed")
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        assert r.text.startswith("retry: 2000\n\n")
        assert r.text.count("event: tick") == 3
        resumed = client.get("/feed", headers={"Last-Event-ID": "1"}).text
        assert 'data: {"n":2}' in resumed and '"n":1' not in resumed


def test_heartbeats_and_closing_when_the_client_leaves() -> None:
    app = App()
    state: dict[str, Any] = {"closed": False}
    release = asyncio.Event()

    @app.get("/slow")
    async def slow() -> EventStream:
        async def events() -> AsyncIterator[str]:
            try:
                yield "first"
                await asyncio.sleep(60)
                yield "never"
            finally:
                state["closed"] = True

        return EventStream(events(), heartbeat=0.05)

    async def scenario() -> None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/slow",
            "raw_path": b"/slow",
            "query_string": b"",
            "headers": [],
            "scheme": "http",
            "root_path": "",
            "server": ("t", 80),
            "client": ("c", 1),
            "http_version": "1.1",
            "asgi": {"version": "3.0"},
        }
        sent: list[bytes] = []
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))
                if sum(b.count(b"keep-alive") for b in sent) >= 2:
                    gone.set()

        app.compile()
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
        assert b"data: first\n\n" in sent
        assert any(b": keep-alive" in b for b in sent)
        release.set()

    asyncio.run(scenario())
    assert state["closed"] is True  # the generator was closed promptly


def test_a_failing_generator_cuts_the_open_stream(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.get("/broken")
    async def broken() -> EventStream:
        async def events() -> AsyncIterator[str]:
            raise HTTPError(409, "no feed")
            yield "unreachable"

        return EventStream(events())

    # The stream opened at once, so the failure can only end it (a client sees it drop and
    # reconnects); it is logged, never turned into a fake success.
    with TestClient(app, raise_app_exceptions=False) as client:
        with pytest.raises(RuntimeError, match="without completing the response body"):
            client.get("/broken")
    assert "HTTPError" in caplog.text


def test_background_tasks_run_after_the_response_and_errors_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    done: list[str] = []

    def sync_job(name: str) -> None:
        done.append(f"sync {name} on {threading.current_thread().name != 'MainThread'}")

    async def async_job(name: str) -> None:
        done.append(f"async {name}")

    def broken_job() -> None:
        raise RuntimeError("job failed")

    @app.post("/signup")
    async def signup(tasks: BackgroundTasks) -> str:
        tasks.add(sync_job, "a")
        tasks.add(broken_job)
        tasks.add(async_job, name="b")
        done.append("handler")
        return "ok"

    @app.post("/fails")
    async def fails(tasks: BackgroundTasks) -> None:
        tasks.add(async_job, "never")
        raise HTTPError(400, "no")

    with TestClient(app) as client:
        assert client.post("/signup").text == "ok"
        assert done == ["handler", "sync a on True", "async b"]
        assert "Background task" in caplog.text and "job failed" in caplog.text
        assert client.post("/fails").status_code == 400
        assert "async never" not in done


def test_periodic_tasks_start_stop_and_never_overlap() -> None:
    app = App()
    runs: list[float] = []
    active = {"now": 0, "max": 0}

    @app.every(0.05)
    async def tick() -> None:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        runs.append(time.monotonic())
        await asyncio.sleep(0.08)  # longer than the interval: must not overlap
        active["now"] -= 1

    @app.every(0.05)
    def failing() -> None:
        raise RuntimeError("periodic failure")

    with TestClient(app):
        time.sleep(0.4)
    count = len(runs)
    time.sleep(0.2)
    assert count >= 3 and len(runs) == count  # stopped with the app
    assert active["max"] == 1
    with pytest.raises(ValueError):
        app.periodic.add(lambda: None, 0)


def test_channels_in_memory_fan_out_and_slow_readers() -> None:
    async def scenario() -> None:
        channels = Channels(max_pending=3)
        async with channels.subscribe("room") as a, channels.subscribe("room") as b:
            await channels.publish("room", {"text": "hi"})
            await channels.publish("other", "ignored")
            assert await a.get() == {"text": "hi"}
            assert await b.get() == {"text": "hi"}
            for n in range(5):
                await channels.publish("room", n)
            assert [await a.get() for _ in range(3)] == [2, 3, 4]
            assert a.dropped == 2
        await channels.publish("room", "nobody listens")
        await channels.close()
        with pytest.raises(ValueError):
            Channels("kafka://x")

    asyncio.run(scenario())


def test_channels_drive_websockets_and_sse() -> None:
    from brace.websockets import WebSocket

    app = App()
    channels = Channels(app=app)

    @app.websocket("/ws/{room}")
    async def ws_room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        async with channels.subscribe(room) as messages:
            await ws.send_text("ready")
            async for message in messages:
                await ws.send_json(message)
                break

    @app.post("/rooms/{room}")
    async def post(room: str, text: str) -> None:
        await channels.publish(room, {"room": room, "text": text})

    async def scenario() -> None:
        async with AsyncTestClient(app) as client:
            await client.post("/rooms/lobby", params={"text": "nobody yet"})
            assert Channels.of(app) is channels

    asyncio.run(scenario())
    with TestClient(app) as client:
        with client.websocket_connect("/ws/lobby") as ws:
            assert ws.receive_text() == "ready"
            client.post("/rooms/lobby", params={"text": "hello"})
            assert ws.receive_json() == {"room": "lobby", "text": "hello"}


def test_race_ends_the_handler_when_the_client_leaves() -> None:
    from brace.websockets import WebSocket, race

    app = App()
    channels = Channels(app=app)
    ended: list[str] = []

    @app.websocket("/live")
    async def live(ws: WebSocket) -> None:
        await ws.accept()
        try:
            async with channels.subscribe("news") as news:
                await ws.send_text("ready")

                async def drain() -> None:
                    async for _ in ws:
                        pass

                await race(drain(), ws.relay(news))
        finally:
            ended.append("handler")

    @app.websocket("/boom")
    async def boom(ws: WebSocket) -> None:
        await ws.accept()

        async def fail() -> None:
            raise RuntimeError("relay broke")

        await race(fail(), asyncio.sleep(30))

    with TestClient(app) as client:
        with client.websocket_connect("/live") as ws:
            assert ws.receive_text() == "ready"
        assert ended == ["handler"]
        assert channels._groups == {}  # unsubscribed: nothing leaked
        with client.websocket_connect("/boom") as ws:
            with pytest.raises(Exception) as closed:
                ws.receive()
            assert getattr(closed.value, "code", None) == 1011

"""Relaying channel subscriptions to WebSockets: sent from publish() itself while the client
reads, a bounded backlog behind a slow client, clean ends when the client goes or breaks."""

import asyncio
import logging
from typing import Any

import pytest

from brace import App
from brace.channels import Channels, Subscription
from brace.testing import TestClient
from brace.websockets import WebSocket, WebSocketDisconnect, race


class FakeClient:
    """An ASGI peer whose sends can be made to wait (a client not reading) or to fail."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.open = asyncio.Event()
        self.open.set()
        self.fail_with: BaseException | None = None
        self.waits = 0
        self.cleanups = 0
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: dict[str, Any]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        if message["type"] != "websocket.send":
            return
        try:
            if not self.open.is_set():
                self.waits += 1
                await self.open.wait()
            self.sent.append(message["text"])
        finally:
            self.cleanups += 1


async def connected(client: FakeClient) -> WebSocket:
    ws = WebSocket({"type": "websocket", "path": "/", "headers": []}, client.receive, client.send)
    await client.incoming.put({"type": "websocket.connect"})
    await ws.accept()
    return ws


async def relay_in_background(ws: WebSocket, messages: Subscription) -> asyncio.Future[None]:
    """`ws.relay(messages)` running in a task of its own, already relaying."""
    relaying = asyncio.ensure_future(ws.relay(messages))
    await asyncio.sleep(0)
    return relaying


def test_relaying_sends_from_publish_in_order_including_what_was_waiting() -> None:
    async def scenario() -> None:
        channels = Channels()
        client = FakeClient()
        ws = await connected(client)
        async with channels.subscribe("room") as messages:
            await channels.publish("room", {"n": 1})  # before relaying: waits in the queue
            async with ws.relaying(messages):
                assert client.sent == ['{"n":1}']
                await channels.publish("room", {"n": 2, "text": "<script>é</script>"})
                # sent by publish() itself: nothing had to run in between
                assert client.sent[1] == '{"n":2,"text":"<script>é</script>"}'
            await channels.publish("room", {"n": 3})  # after the block: back to the queue
            assert len(client.sent) == 2
            assert await messages.get() == {"n": 3}

    asyncio.run(scenario())


def test_a_slow_client_gets_a_bounded_backlog_and_the_others_are_not_held_up() -> None:
    async def scenario() -> None:
        channels = Channels(max_pending=3)
        slow, fast = FakeClient(), FakeClient()
        slow_ws, fast_ws = await connected(slow), await connected(fast)
        async with (
            channels.subscribe("room") as slow_sub,
            channels.subscribe("room") as fast_sub,
            slow_ws.relaying(slow_sub),
            fast_ws.relaying(fast_sub),
        ):
            slow.open.clear()  # the slow client stops reading
            for n in range(10):
                await channels.publish("room", n)
            assert fast.sent == [str(n) for n in range(10)]
            assert slow.sent == [] and slow.waits == 1
            assert slow_sub.dropped == 6  # 0 is in flight, 7-9 wait, 1-6 were dropped
            slow.open.set()  # it reads again: the backlog goes out, oldest first
            for _ in range(20):
                await asyncio.sleep(0)
            assert slow.sent == ["0", "7", "8", "9"]
            await channels.publish("room", 10)
            assert slow.sent[-1] == "10" and fast.sent[-1] == "10"

    asyncio.run(scenario())


def test_leaving_the_block_while_a_send_waits_cancels_it_cleanly() -> None:
    async def scenario() -> None:
        channels = Channels()
        client = FakeClient()
        ws = await connected(client)
        async with channels.subscribe("room") as messages:
            async with ws.relaying(messages):
                client.open.clear()
                await channels.publish("room", "stuck")
                await channels.publish("room", "behind")
                assert client.waits == 1
            assert client.cleanups == 1  # the waiting send's own clean-up ran
            assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
            async with ws.relaying(messages):  # the subscription can be relayed again
                client.open.set()
                await channels.publish("room", "again")
            assert client.sent == ['"again"']

    asyncio.run(scenario())


def test_relay_ends_when_the_client_is_gone_and_reports_other_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        channels = Channels()
        client = FakeClient()
        ws = await connected(client)
        async with channels.subscribe("room") as messages:
            relaying = await relay_in_background(ws, messages)
            client.fail_with = OSError("connection reset")
            await channels.publish("room", "lost")
            with pytest.raises(WebSocketDisconnect):
                await relaying
            await channels.publish("room", "ignored")  # the relay is gone: nothing raised

        broken = FakeClient()
        ws = await connected(broken)
        async with channels.subscribe("room") as messages:
            relaying = await relay_in_background(ws, messages)
            broken.open.clear()
            await channels.publish("room", "waits")  # the failure comes in the task
            broken.fail_with = ValueError("server bug")
            await channels.publish("room", "queued")
            broken.open.set()
            with pytest.raises(ValueError, match="server bug"):
                await relaying

        # A send that fails at once with something other than a disconnect is reported too.
        ws = await connected(FakeClient())
        ws._send = failing_send  # type: ignore[assignment]
        async with channels.subscribe("room") as messages:
            relaying = await relay_in_background(ws, messages)
            await channels.publish("room", "x")
            with pytest.raises(KeyError):
                await relaying

    async def failing_send(message: dict[str, Any]) -> None:
        raise KeyError("bad message")

    with caplog.at_level(logging.ERROR, logger="brace.websockets"):
        asyncio.run(scenario())
    failures = [r for r in caplog.records if "relaying to a WebSocket failed" in r.message]
    assert len(failures) == 2  # the disconnect is quiet; the two bugs are logged


def test_relaying_needs_an_accepted_socket_and_one_relay_per_subscription() -> None:
    async def scenario() -> None:
        channels = Channels()
        client = FakeClient()
        unaccepted = WebSocket(
            {"type": "websocket", "path": "/", "headers": []}, client.receive, client.send
        )
        async with channels.subscribe("room") as messages:
            with pytest.raises(RuntimeError, match="accept"):
                async with unaccepted.relaying(messages):
                    pass
            ws = await connected(client)
            async with ws.relaying(messages):
                with pytest.raises(RuntimeError, match="already relayed"):
                    async with ws.relaying(messages):
                        pass
            await ws.close()
            with pytest.raises(RuntimeError, match="accept"):
                async with ws.relaying(messages):
                    pass

    asyncio.run(scenario())


def test_a_closed_socket_stops_receiving_relayed_messages() -> None:
    async def scenario() -> None:
        channels = Channels()
        client = FakeClient()
        ws = await connected(client)
        async with channels.subscribe("room") as messages:
            relaying = await relay_in_background(ws, messages)
            await ws.close()
            await channels.publish("room", "after close")
            with pytest.raises(WebSocketDisconnect):
                await relaying
        assert client.sent == []

    asyncio.run(scenario())


def test_one_reader_per_subscription() -> None:
    async def scenario() -> None:
        channels = Channels()
        async with channels.subscribe("room") as messages:
            first = asyncio.ensure_future(messages.get())
            await asyncio.sleep(0)
            with pytest.raises(RuntimeError, match="already reading"):
                await messages.get()
            await channels.publish("room", "one")
            assert await first == "one"

    asyncio.run(scenario())


def test_chat_room_over_the_test_client_with_one_task_per_connection() -> None:
    app = App()
    channels = Channels(app=app)
    ended: list[str] = []

    @app.websocket("/rooms/{room}")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        async with channels.subscribe(room) as messages, ws.relaying(messages):
            await ws.send_text("joined")
            async for text in ws:
                await channels.publish(room, {"text": text})
        ended.append(room)

    with TestClient(app) as client:
        with (
            client.websocket_connect("/rooms/a") as one,
            client.websocket_connect("/rooms/a") as two,
        ):
            assert one.receive_text() == "joined" and two.receive_text() == "joined"
            one.send_text("<b>hi</b> ' OR 1=1 --")
            assert two.receive_json() == {"text": "<b>hi</b> ' OR 1=1 --"}
            assert one.receive_json() == {"text": "<b>hi</b> ' OR 1=1 --"}
        assert sorted(ended) == ["a", "a"]
        assert channels._groups == {}


def test_race_with_relay_still_works_for_plain_async_iterables() -> None:
    async def scenario() -> None:
        client = FakeClient()
        ws = await connected(client)

        async def numbers() -> Any:
            for n in range(3):
                yield {"n": n}

        await ws.relay(numbers())
        assert client.sent == ['{"n":0}', '{"n":1}', '{"n":2}']
        await client.incoming.put({"type": "websocket.disconnect", "code": 1000})

        async def read() -> None:
            async for _ in ws:
                pass

        await race(read(), asyncio.sleep(5))

    asyncio.run(scenario())


def test_resuming_a_started_send_like_a_task_would() -> None:
    from brace.core.websockets import _resume

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        log: list[str] = []

        async def polite() -> None:  # a bare yield, then done
            await asyncio.sleep(0)
            log.append("polite done")

        step = polite()
        await _resume(step, step.send(None))
        assert log == ["polite done"]

        gate = loop.create_future()

        async def stubborn() -> None:  # swallows the cancellation and finishes
            try:
                await gate
            except asyncio.CancelledError:
                log.append("stubborn cleaned up")

        step = stubborn()
        task = asyncio.ensure_future(_resume(step, step.send(None)))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert log[-1] == "stubborn cleaned up"

        later = loop.create_future()

        async def slow_cleanup() -> None:  # waits again while cleaning up, then finishes
            try:
                await loop.create_future()
            except asyncio.CancelledError:
                await later
                log.append("slow cleanup done")

        step = slow_cleanup()
        task = asyncio.ensure_future(_resume(step, step.send(None)))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)
        later.set_result(None)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert log[-1] == "slow cleanup done"

    asyncio.run(scenario())


def test_sends_that_return_plain_awaitables_and_a_cancelled_handler() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        channels = Channels()
        sent: list[str] = []
        pending: list[asyncio.Future[None]] = []
        blocking = {"on": False}

        def future_send(message: dict[str, Any]) -> asyncio.Future[None]:
            """An ASGI send that returns a Future, not a coroutine."""
            future: asyncio.Future[None] = loop.create_future()
            if message["type"] == "websocket.send":
                sent.append(message["text"])
                if blocking["on"]:  # this send has to wait
                    blocking["on"] = False
                    pending.append(future)
                    return future
            future.set_result(None)
            return future

        client = FakeClient()
        ws = await connected(client)
        ws._send = future_send  # type: ignore[assignment]
        async with channels.subscribe("room") as messages:

            async def handler() -> None:
                async with ws.relaying(messages):
                    await asyncio.sleep(30)

            task = asyncio.ensure_future(handler())
            await asyncio.sleep(0)
            await channels.publish("room", 1)
            blocking["on"] = True
            await channels.publish("room", 2)  # waits on its future
            await channels.publish("room", 3)  # queued behind it
            assert sent == ["1", "2"]
            pending[0].set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
            assert sent == ["1", "2", "3"]
            pending.clear()
            await channels.publish("room", 4)
            blocking["on"] = True
            await channels.publish("room", 5)  # a future that never completes
            assert pending
            task.cancel()  # the handler is cancelled while a send waits
            with pytest.raises(asyncio.CancelledError):
                await task
            assert messages._sink is None  # detached on the way out

    asyncio.run(scenario())


def test_test_client_receive_timeouts() -> None:
    import time

    app = App()

    @app.websocket("/quiet")
    async def quiet(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws:
            if text == "speak":
                await ws.send_json({"said": text})

    with TestClient(app) as client:
        with client.websocket_connect("/quiet", timeout=0.3) as ws:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                ws.receive_text()  # the session's timeout
            assert time.monotonic() - started < 2
            with pytest.raises(TimeoutError):
                ws.receive_json(timeout=0.05)  # one call's
            ws.send_text("speak")
            assert ws.receive_json(timeout=5) == {"said": "speak"}


def test_a_relayed_subscription_cannot_also_be_read() -> None:
    async def scenario() -> None:
        channels = Channels()
        ws = await connected(FakeClient())
        async with channels.subscribe("room") as messages:
            reader = asyncio.ensure_future(messages.get())  # waiting before the relay starts
            await asyncio.sleep(0)
            async with ws.relaying(messages):
                with pytest.raises(RuntimeError, match="relayed"):
                    await reader  # woken with an error rather than left waiting forever
                with pytest.raises(RuntimeError, match="relayed"):
                    await messages.get()
            await channels.publish("room", "after")  # after the block it can be read again
            assert await messages.get() == "after"

    asyncio.run(scenario())

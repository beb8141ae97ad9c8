"""Server-sent events: `return EventStream(events())` from a handler, where `events()` is an
async generator of `Event`s (or plain data).

    @app.get("/feed")
    async def feed(last_event_id: Annotated[str | None, Header(alias="last-event-id")] = None):
        async def events():
            async for item in updates_since(last_event_id):
                yield Event(item, id=str(item.id), event="update")
        return EventStream(events(), heartbeat=15)

Heartbeat comments keep proxies from closing a quiet stream; the generator is closed as soon
as the client goes away, or as soon as the server is asked to stop (Ctrl+C, SIGTERM): open
streams end cleanly instead of holding the shutdown (see brace._server_stop).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._server_stop import on_server_stop
from .core.responses import StreamingResponse, json_encoder

__all__ = ["Event", "EventStream", "encode_event"]


@dataclass(frozen=True, slots=True)
class Event:
    """One event. `data` that is not a str is sent as JSON; `comment` is sent as `: ...`."""

    data: Any = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None


def _field(value: str) -> str:
    # A line break in a field would let the value forge further fields or events.
    return value.replace("\r", " ").replace("\n", " ").replace("\x00", "")


def encode_event(item: Any) -> bytes:
    """The wire form of an event (anything not an `Event` is its data)."""
    event = item if isinstance(item, Event) else Event(item)
    lines: list[str] = []
    if event.comment is not None:
        lines += [f": {_field(line)}" for line in event.comment.splitlines() or [""]]
    if event.id is not None:
        lines.append(f"id: {_field(event.id)}")
    if event.event is not None:
        lines.append(f"event: {_field(event.event)}")
    if event.retry is not None:
        lines.append(f"retry: {int(event.retry)}")
    if event.data is not None:
        data = (
            event.data if isinstance(event.data, str) else json_encoder.encode(event.data).decode()
        )
        # Each line of the data is its own `data:` field; the client joins them with "\n".
        lines += [
            f"data: {line}" for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        ]
    return ("\n".join(lines) + "\n\n").encode()


_END: Any = object()


class EventStream(StreamingResponse):
    """A `text/event-stream` response from an async iterable of events."""

    def __init__(
        self,
        events: AsyncIterable[Any],
        *,
        heartbeat: float | None = 15.0,
        retry: int | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """`heartbeat`: seconds of silence after which a comment line is sent (None: never);
        `retry`: the reconnection delay (ms) to suggest to clients, sent first."""
        self.events = events
        self.heartbeat = heartbeat
        self.retry = retry
        merged = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})}
        super().__init__(
            self._encoded(), status_code, merged, media_type="text/event-stream; charset=utf-8"
        )

    async def _encoded(self) -> AsyncIterable[bytes]:
        # Something at once, so the response starts and the browser's EventSource opens now,
        # not at the first event or heartbeat.
        yield encode_event(
            Event(retry=self.retry) if self.retry is not None else Event(comment="ok")
        )
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)  # the producer waits for the client
        producer = asyncio.ensure_future(self._produce(queue))

        def end_now() -> None:  # the server is stopping: the next item is the end
            producer.cancel()
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_END)

        forget = on_server_stop(end_now)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self.heartbeat)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield encode_event(item)
        finally:
            forget()
            producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)

    async def _produce(self, queue: asyncio.Queue[Any]) -> None:
        events = self.events
        try:
            async for item in events:
                await queue.put(item)
            await queue.put(_END)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await queue.put(_Failure(error))
        finally:
            closer = getattr(events, "aclose", None)
            if closer is not None:
                await closer()  # the client left or the stream ended: release the generator


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error

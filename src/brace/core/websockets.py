"""WebSocket connections: `@app.websocket("/ws/{room}")` handlers receive a `WebSocket`.

    @app.websocket("/ws/{room}", receives=ChatMessage)
    async def chat(ws: WebSocket, room: str) -> None:
        await ws.accept()
        async for message in ws.messages():        # validated ChatMessage objects
            await ws.send_json({"room": room, "text": message.text})

A client that goes away ends the loops quietly (`WebSocketDisconnect` is raised by direct
receive calls and handled by brace when it escapes the handler).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import types
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from .connection import HTTPConnection
from .responses import json_encoder
from .types import Message, Receive, Scope, Send

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WebSocket",
    "WebSocketClose",
    "WebSocketDisconnect",
    "WebSocketState",
    "race",
]

DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024
_decoder = msgspec.json.Decoder()
logger = logging.getLogger("brace.websockets")
_Coroutine = types.CoroutineType


class WebSocketState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    CLOSED = "closed"


class WebSocketDisconnect(Exception):
    """The client closed the connection (or it broke)."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WebSocketClose(Exception):
    """Raise to close the connection with `code` (and `reason`) from anywhere in a handler."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


async def race(*awaitables: Awaitable[Any]) -> None:
    """Run the awaitables together until the first one finishes, then cancel the others and
    wait for them: `await race(read_from_client(), ws.relay(subscription))`. The first one's
    error is raised (a disconnect ends the race quietly), so no task outlives the connection."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        error = task.exception()
        if error is not None and not isinstance(error, WebSocketDisconnect):
            raise error


_CONNECTED = WebSocketState.CONNECTED


class WebSocket(HTTPConnection):
    """One WebSocket connection: the handshake's URL, headers, cookies and session (what
    every connection has), plus sending and receiving messages; no HTTP body."""

    __slots__ = ("_receive", "_send", "client_state", "max_message_size", "on_invalid", "receives")

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        receives: Any = None,
        on_invalid: Literal["error", "close"] = "error",
    ) -> None:
        super().__init__(scope)
        self._receive = receive
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.max_message_size = max_message_size
        self.receives = receives
        self.on_invalid = on_invalid

    @property
    def method(self) -> str:
        return "WEBSOCKET"

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols", ()))

    # -- handshake ------------------------------------------------------------------------

    async def accept(
        self, subprotocol: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """Complete the handshake (choose one of `subprotocols`, add response headers)."""
        if self.client_state is not WebSocketState.CONNECTING:
            raise RuntimeError("the WebSocket was already accepted or closed")
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.CLOSED
            raise WebSocketDisconnect(message.get("code", 1006))
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(f"the client did not offer the subprotocol {subprotocol!r}")
        reply: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            reply["headers"] = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]
        await self._send(reply)
        self.client_state = WebSocketState.CONNECTED

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (before `accept`, this refuses the handshake: HTTP 403)."""
        if self.client_state is WebSocketState.CLOSED:
            return
        self.client_state = WebSocketState.CLOSED
        await self._send({"type": "websocket.close", "code": code, "reason": reason[:120]})

    # -- receiving -----------------------------------------------------------------------

    async def receive(self) -> Message:
        """The next raw ASGI message (`websocket.receive` or `websocket.disconnect`)."""
        if self.client_state is not WebSocketState.CONNECTED:
            raise RuntimeError("accept() the WebSocket before receiving")
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.CLOSED
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason") or "")
        size = len(message.get("text") or "") + len(message.get("bytes") or b"")
        if size > self.max_message_size:
            await self.close(1009, "message too big")
            raise WebSocketDisconnect(1009, "message too big")
        return message

    async def receive_text(self) -> str:
        message = await self.receive()
        text = message.get("text")
        if text is None:
            await self.close(1003, "text messages only")
            raise WebSocketDisconnect(1003, "text messages only")
        return str(text)

    async def receive_bytes(self) -> bytes:
        message = await self.receive()
        data = message.get("bytes")
        if data is None:
            await self.close(1003, "binary messages only")
            raise WebSocketDisconnect(1003, "binary messages only")
        return bytes(data)

    async def receive_json(self) -> Any:
        """The next message decoded as JSON (text or binary); malformed JSON closes with 1007."""
        message = await self.receive()
        raw = message.get("text") if message.get("text") is not None else message.get("bytes")
        try:
            return _decoder.decode(raw or b"")
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            await self.close(1007, "malformed JSON")
            raise WebSocketDisconnect(1007, "malformed JSON") from None

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        """Every message's text (or bytes) until the client disconnects."""
        try:
            while True:
                message = await self.receive()
                text = message.get("text")
                yield text if text is not None else bytes(message.get("bytes") or b"")
        except WebSocketDisconnect:
            return

    async def messages(self, type: Any = None) -> AsyncIterator[Any]:
        """Validated messages of `type` (default: the route's `receives=`) until the client
        disconnects. An invalid one is answered with an error frame
        (`{"type": "error", "errors": [...]}`) and skipped, or closes the connection with 1007
        when the route says `on_invalid="close"`."""
        from .params.validation import body_errors, error_item

        target = type if type is not None else self.receives
        decoder = msgspec.json.Decoder(target, strict=False) if target is not None else _decoder
        try:
            while True:
                message = await self.receive()
                raw = message.get("text")
                raw = raw if raw is not None else message.get("bytes") or b""
                try:
                    yield decoder.decode(raw)
                    continue
                except msgspec.ValidationError as exc:
                    errors: list[dict[str, Any]] = []
                    try:
                        body_errors(_decoder.decode(raw), target, "message", errors)
                    except (msgspec.DecodeError, RecursionError):
                        errors = []
                    errors = errors or [error_item("message", exc)]
                except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                    errors = [{"loc": "message", "msg": "Malformed JSON", "input": "str"}]
                if self.on_invalid == "close":
                    await self.close(1007, "invalid message")
                    return
                await self.send_json({"type": "error", "errors": errors})
        except WebSocketDisconnect:
            return

    # -- sending ---------------------------------------------------------------------------

    async def send_text(self, text: str) -> None:
        await self._send_message({"type": "websocket.send", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._send_message({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, *, binary: bool = False) -> None:
        """Encode with msgspec (Structs, dataclasses, datetimes...) and send."""
        encoded = json_encoder.encode(data)
        if binary:
            await self.send_bytes(encoded)
        else:
            await self.send_text(encoded.decode())

    async def send_many(self, texts: Iterable[str]) -> None:
        for text in texts:
            await self.send_text(text)

    def relaying(self, subscription: Relayable) -> _Relay:
        """`async with ws.relaying(subscription):` every message of a channel subscription goes
        to this client while the block runs, sent straight from `publish()` without a task of
        its own, so the block can simply read from the client:

            async with channels.subscribe(room) as messages, ws.relaying(messages):
                async for text in ws:            # ends when the client leaves
                    await channels.publish(room, {"text": text})
        """
        return _Relay(self, subscription)

    async def relay(self, source: AsyncIterable[Any]) -> None:
        """Send every item of `source` as JSON until it ends or the client goes away. A
        channel subscription is relayed the way `relaying()` does it."""
        if isinstance(source, Relayable):
            async with self.relaying(source) as relay:
                await relay.wait_closed()
            return
        async for item in source:
            await self.send_json(item)

    async def _send_message(self, message: Message) -> None:
        if self.client_state is not WebSocketState.CONNECTED:
            raise RuntimeError("the WebSocket is not connected: accept() it first")
        try:
            await self._send(message)
        except OSError:  # the transport broke under us: the client is gone
            self.client_state = WebSocketState.CLOSED
            raise WebSocketDisconnect(1006) from None

    def __repr__(self) -> str:
        return f"<WebSocket {self.scope.get('path')} {self.client_state.value}>"


class RelaySink(Protocol):
    """What a relay source pushes encoded messages into (a WebSocket's relay)."""

    def push(self, text: str) -> None: ...


@runtime_checkable
class Relayable(Protocol):
    """A message source a WebSocket can relay from inside the publisher (brace.channels'
    `Subscription` is one): it hands each message to the attached sink as it arrives."""

    max_pending: int
    dropped: int

    def attach_relay(self, sink: RelaySink | None) -> list[Any]:
        """Send what arrives from now on to `sink` (None: detach); returns what was waiting."""
        ...


class _Relay:
    """Relays a channel subscription to one WebSocket from inside `publish()`.

    A WebSocket send usually completes without waiting (the bytes fit in the socket buffer),
    so the relay runs it on the spot: no queue, no task and no wake-up per message. Only a send
    that must wait (a client reading slowly) continues in a task; messages arriving meanwhile
    wait in a backlog of at most `subscription.max_pending`, the oldest dropped first and
    counted in `subscription.dropped`, so a client that never reads holds bounded memory."""

    __slots__ = (
        "_backlog",
        "_ended",
        "_open",
        "_send",
        "_step",
        "_subscription",
        "_task",
        "_ws",
        "error",
    )

    def __init__(self, ws: WebSocket, subscription: Relayable) -> None:
        self._ws = ws
        self._subscription = subscription
        # Made only when needed: an idle relay should be small (thousands are held at once).
        self._backlog: deque[str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._step: Any = None  # the send that is waiting, while it is
        self._ended: asyncio.Future[None] | None = None  # for wait_closed() only
        self._open = False  # between entering the block and its end (or the client's)
        self._send = ws._send
        self.error: BaseException | None = None

    async def __aenter__(self) -> _Relay:
        if self._ws.client_state is not _CONNECTED:
            raise RuntimeError("accept() the WebSocket before relaying to it")
        self._open = True
        for message in self._subscription.attach_relay(self):  # what arrived before the block
            self.push(json_encoder.encode(message).decode())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._subscription.attach_relay(None)
        self._end(None)
        task = self._task
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise
            finally:
                step, self._step = self._step, None
                if step is not None:  # cancelled before the task ever ran: clean up now
                    with contextlib.suppress(BaseException):
                        step.close()

    async def wait_closed(self) -> None:
        """Until a send fails (the client left): raises WebSocketDisconnect, or the error."""
        if self._open:
            self._ended = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._ended)
        error = self.error
        if isinstance(error, OSError | WebSocketDisconnect):
            raise WebSocketDisconnect(1006) from None
        if error is not None:
            raise error

    def push(self, text: str) -> None:
        # The hot path of a broadcast: runs once per connection per message.
        if not self._open:
            return
        if self._task is not None:  # a send is waiting for the client: queue behind it
            backlog = self._backlog
            if backlog is None:
                backlog = self._backlog = deque()
            elif len(backlog) >= self._subscription.max_pending:
                backlog.popleft()
                self._subscription.dropped += 1
            backlog.append(text)
            return
        if self._ws.client_state is not _CONNECTED:
            self._end(WebSocketDisconnect(1006))
            return
        step: Any = self._send({"type": "websocket.send", "text": text})
        if type(step) is not _Coroutine:
            step = step.__await__()
        try:
            waiting_on = step.send(None)
        except StopIteration:
            return  # sent without waiting: the usual case
        except Exception as error:
            self._end(error)
            return
        self._step = step
        self._task = asyncio.get_running_loop().create_task(self._finish(step, waiting_on))

    async def _finish(self, step: Any, waiting_on: Any) -> None:
        try:
            try:
                await _resume(step, waiting_on)
            finally:
                self._step = None
            while self._backlog:
                message = {"type": "websocket.send", "text": self._backlog.popleft()}
                await self._send(message)
        except Exception as error:
            self._end(error)
        finally:
            self._task = None

    def _end(self, error: BaseException | None) -> None:
        if not self._open:
            return
        self._open = False
        self._backlog = None
        if error is not None:
            self.error = error
            if not isinstance(error, OSError | WebSocketDisconnect):
                logger.error("relaying to a WebSocket failed", exc_info=error)
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)


async def _resume(step: Any, waiting_on: Any) -> None:
    """Run a coroutine that already ran up to its first wait, to its end, as a Task would
    have: wait for what it waits on, then step it again. Cancelling throws into it, so its
    own clean-up (releasing a lock, say) runs."""
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            if waiting_on is None:  # a bare yield: give the others a turn
                await asyncio.sleep(0)
            else:
                waiting_on._asyncio_future_blocking = False
                await asyncio.wait((waiting_on,))
        except asyncio.CancelledError as error:
            cancelled = error
            try:
                waiting_on = step.throw(error)
            except StopIteration:
                raise error from None
            continue
        try:
            waiting_on = step.send(None)
        except StopIteration:
            if cancelled is not None:
                raise cancelled from None
            return

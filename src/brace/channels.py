"""Broadcast to named groups, within one process or across many through Redis pub/sub.

    channels = Channels("redis://127.0.0.1:6379/0", app=app)   # or "memory://" (default)

    await channels.publish("room:lobby", {"text": "hi"})
    async with channels.subscribe("room:lobby") as subscription:
        async for message in subscription:
            ...

WebSocket and SSE handlers use the same API. Messages are JSON values (encoded with msgspec).
A subscriber that falls too far behind loses the oldest messages rather than holding memory:
`subscription.dropped` counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

if TYPE_CHECKING:
    from .core.app import App

__all__ = ["Channels", "Subscription"]

logger = logging.getLogger("brace.channels")
_EXTENSION_KEY = "brace.channels"


_RELAYED = "this subscription is relayed to a WebSocket: its messages go there, not to readers"


class _Sink(Protocol):
    """Where a subscription's messages go instead of its own queue (a WebSocket relay)."""

    def push(self, text: str) -> None: ...


class Subscription:
    """Messages of one group, as they arrive, from `async with channels.subscribe(group)`.

    A deque (made on the first message) and at most one waiting reader, not an
    `asyncio.Queue`: thousands of idle subscriptions should cost little memory."""

    __slots__ = ("_pending", "_sink", "_waiter", "dropped", "group", "max_pending")

    def __init__(self, group: str, max_pending: int) -> None:
        self.group = group
        self.max_pending = max_pending
        self.dropped = 0
        self._pending: deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._sink: _Sink | None = None

    def deliver(self, message: Any) -> None:
        pending = self._pending
        if pending is None:
            pending = self._pending = deque()
        elif len(pending) >= self.max_pending:
            pending.popleft()  # a slow reader loses the oldest, never blocks the others
            self.dropped += 1
        pending.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        """The next message, waiting for one if none is pending."""
        while not self._pending:
            if self._sink is not None:
                raise RuntimeError(_RELAYED)
            if self._waiter is not None:
                raise RuntimeError("another task is already reading this subscription")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._pending.popleft()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        return await self.get()

    def attach_relay(self, sink: _Sink | None) -> list[Any]:
        """Send what arrives from now on to `sink` (None: back to this subscription's own
        queue); returns the messages that were already waiting, for the sink to send first."""
        if sink is not None and self._sink is not None:
            raise RuntimeError("this subscription is already relayed to a WebSocket")
        self._sink = sink
        waiter = self._waiter
        if sink is not None and waiter is not None and not waiter.done():
            waiter.set_exception(RuntimeError(_RELAYED))  # it would never be woken
        waiting = list(self._pending or ())
        self._pending = None
        return waiting


class _Backend(Protocol):
    async def publish(self, group: str, payload: bytes) -> None: ...

    async def listen(self, group: str) -> None: ...

    async def unlisten(self, group: str) -> None: ...

    async def close(self) -> None: ...


class _MemoryBackend:
    def __init__(self, deliver: Any) -> None:
        self._deliver = deliver

    async def publish(self, group: str, payload: bytes) -> None:
        self._deliver(group, payload)

    async def listen(self, group: str) -> None:
        return None

    async def unlisten(self, group: str) -> None:
        return None

    async def close(self) -> None:
        return None


class _RedisBackend:
    """One pub/sub connection per process, multiplexing every group this process listens to."""

    def __init__(self, url: str, deliver: Any, prefix: str) -> None:
        from redis import asyncio as redis_asyncio

        self._client: Any = redis_asyncio.from_url(url)
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._deliver = deliver
        self._prefix = prefix
        self._lock = asyncio.Lock()
        self._confirmations: dict[str, asyncio.Future[None]] = {}

    async def publish(self, group: str, payload: bytes) -> None:
        await self._client.publish(self._prefix + group, payload)

    async def listen(self, group: str) -> None:
        channel = self._prefix + group
        confirmed = asyncio.get_running_loop().create_future()
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._client.pubsub()
            self._confirmations[channel] = confirmed
            await self._pubsub.subscribe(channel)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.get_running_loop().create_task(self._read())
        # Redis confirms the subscription in order on this connection: once it has, every
        # message published afterwards is delivered.
        try:
            await asyncio.wait_for(asyncio.shield(confirmed), timeout=5.0)
        finally:
            self._confirmations.pop(channel, None)

    async def unlisten(self, group: str) -> None:
        async with self._lock:
            if self._pubsub is not None:
                await self._pubsub.unsubscribe(self._prefix + group)

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Redis pub/sub read failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if message is None:
                continue
            channel = message["channel"]
            name = channel.decode() if isinstance(channel, bytes) else str(channel)
            if message.get("type") == "subscribe":
                waiting = self._confirmations.get(name)
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)
                continue
            if message.get("type") == "message":
                self._deliver(name.removeprefix(self._prefix), message["data"])

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._client.aclose()


class Channels:
    """Named groups to publish to and subscribe from. `url`: "memory://" (one process, the
    default) or "redis://host:port/db" (every process and host sharing that Redis)."""

    def __init__(
        self,
        url: str = "memory://",
        *,
        app: App | None = None,
        max_pending: int = 1000,
        prefix: str = "brace:channel:",
    ) -> None:
        self.url = url
        self.max_pending = max_pending
        self._groups: dict[str, set[Subscription]] = {}
        self._ready: dict[str, asyncio.Future[None]] = {}
        self._backend: _Backend
        if url.startswith("memory:"):
            self._backend = _MemoryBackend(self._deliver)
        elif url.startswith(("redis://", "rediss://", "unix://")):
            self._backend = _RedisBackend(url, self._deliver, prefix)
        else:
            raise ValueError(f"unsupported channels URL {url!r}: use memory:// or redis://")
        if app is not None:
            app.extensions[_EXTENSION_KEY] = self
            app.install(self)

    def on_app_init(self, app: App) -> None:
        """The plugin hook: the channels close (Redis connections) when the app stops."""
        app.on_shutdown(self.close)

    @staticmethod
    def of(app: App) -> Channels:
        try:
            channels: Channels = app.extensions[_EXTENSION_KEY]
        except KeyError:
            raise RuntimeError("this app has no Channels: Channels(url, app=app)") from None
        return channels

    async def publish(self, group: str, message: Any) -> None:
        """Send `message` (any JSON value, Struct, dataclass...) to every subscriber of
        `group`, in this process and, with Redis, in every other."""
        await self._backend.publish(group, msgspec.json.encode(message))

    @contextlib.asynccontextmanager
    async def subscribe(self, group: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(group, self.max_pending)
        members = self._groups.setdefault(group, set())
        first = not members
        members.add(subscription)
        try:
            if first:
                # Later subscribers to the group wait for this one's listen(): entering the
                # block before the backend listens would lose what is published meanwhile.
                ready = self._ready[group] = asyncio.get_running_loop().create_future()
                try:
                    await self._backend.listen(group)
                finally:
                    ready.set_result(None)
            else:
                pending = self._ready.get(group)
                if pending is not None:
                    await asyncio.shield(pending)
            yield subscription
        finally:
            members.discard(subscription)
            if not members:
                self._groups.pop(group, None)
                self._ready.pop(group, None)
                with contextlib.suppress(Exception):
                    await self._backend.unlisten(group)

    def _deliver(self, group: str, payload: bytes) -> None:
        members = self._groups.get(group)
        if not members:
            return
        try:
            message = msgspec.json.decode(payload)
        except msgspec.DecodeError:
            logger.warning("dropped a malformed message on %r", group)
            return
        text: str | None = None
        for subscription in tuple(members):
            sink = subscription._sink
            if sink is None:
                subscription.deliver(message)
                continue
            if text is None:  # relayed WebSockets get the published JSON as it is, decoded once
                text = payload.decode() if isinstance(payload, bytes) else str(payload)
            sink.push(text)

    async def close(self) -> None:
        await self._backend.close()

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
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

if TYPE_CHECKING:
    from .app import App

__all__ = ["Channels", "Subscription"]

logger = logging.getLogger("brace.channels")
_EXTENSION_KEY = "brace.channels"


class Subscription:
    """Messages of one group, as they arrive, from `async with channels.subscribe(group)`."""

    def __init__(self, group: str, max_pending: int) -> None:
        self.group = group
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_pending)
        self.dropped = 0

    def deliver(self, message: Any) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # a slow reader loses the oldest, never blocks the others
            self.dropped += 1
        self.queue.put_nowait(message)

    async def get(self) -> Any:
        return await self.queue.get()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        return await self.queue.get()


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
        for subscription in list(members):
            subscription.deliver(message)

    async def close(self) -> None:
        await self._backend.close()

"""Compose start-up and shutdown: the app, its routers and mounted ASGI apps, in order."""

from __future__ import annotations

import asyncio
import inspect
import logging
import traceback
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

from .routing import Mount, Router
from .types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from .app import App

__all__ = ["LifespanDriver", "LifespanError", "run_lifespans", "serve_lifespan"]

logger = logging.getLogger("brace")


class LifespanError(RuntimeError):
    """A mounted app reported that its start-up or shutdown failed."""


async def _call(fn: Callable[[], Any]) -> None:
    result = fn()
    if inspect.isawaitable(result):
        await result


async def _run_hooks(hooks: Sequence[Callable[[], Any]]) -> None:
    for hook in hooks:
        await _call(hook)


@asynccontextmanager
async def mounted_lifespan(mount: Mount) -> AsyncIterator[None]:
    """Drive a mounted ASGI app's own lifespan protocol, as a server would."""
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    app: ASGIApp = mount.app
    task = asyncio.ensure_future(app(scope, to_app.get, from_app.put))

    async def reply() -> Message | None:
        getter = asyncio.ensure_future(from_app.get())
        await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()
        return None

    await to_app.put({"type": "lifespan.startup"})
    message = await reply()
    if message is None:
        # The app ended without answering: it does not speak lifespan, like many apps.
        if not task.cancelled() and task.exception() is not None:
            logger.debug("app mounted at %s does not support lifespan", mount.path)
        yield
        return
    if message["type"] == "lifespan.startup.failed":
        task.cancel()
        raise LifespanError(
            f"app mounted at {mount.path} failed to start: {message.get('message', '')}"
        )
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        message = await reply()
        if not task.done():
            try:
                await asyncio.wait_for(task, timeout=5)
            except (TimeoutError, Exception):
                task.cancel()
        if message is not None and message["type"] == "lifespan.shutdown.failed":
            raise LifespanError(
                f"app mounted at {mount.path} failed to shut down: {message.get('message', '')}"
            )


@asynccontextmanager
async def run_lifespans(
    app: Any, routers: Sequence[Router], mounts: Sequence[Mount]
) -> AsyncIterator[dict[str, Any]]:
    """Start everything outer first, stop it in reverse; yields the lifespan state."""
    state: dict[str, Any] = {}
    async with AsyncExitStack() as stack:
        for router in routers:
            if router.lifespan is not None:
                value = await stack.enter_async_context(router.lifespan(app))
                if isinstance(value, Mapping):
                    state.update(value)
            await _run_hooks(router.startup_hooks)
            if router.shutdown_hooks:
                stack.push_async_callback(_run_hooks, list(router.shutdown_hooks))
        for mount in mounts:
            await stack.enter_async_context(mounted_lifespan(mount))
        yield state


async def serve_lifespan(app: App, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer the server's lifespan protocol: build the app, start everything, wait for
    shutdown, stop everything; a failure is reported to the server with its traceback."""
    started = False
    message = await receive()
    if message["type"] != "lifespan.startup":  # pragma: no cover - server bug
        return
    detector = app.blocking_detector
    try:
        app.compile()
        if detector is not None:
            detector.start()
        async with run_lifespans(app, app._routers, app._all_mounts) as state:
            for key, value in state.items():
                setattr(app.state, key, value)
            if isinstance(scope.get("state"), dict):
                scope["state"].update(state)
            try:
                # App-scoped dependencies start after the hooks (they may need app.state)
                # and stop before them.
                await app._injector.start()
                await app.periodic.start()
                app.shutting_down = False
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
                app.shutting_down = True
            finally:
                await app.periodic.stop()
                await app._injector.stop()
    except BaseException as exc:
        text = "".join(traceback.format_exception(exc))
        phase = "shutdown" if started else "startup"
        logger.error("Application %s failed:\n%s", phase, text)
        await send({"type": f"lifespan.{phase}.failed", "message": text})
        if not isinstance(exc, Exception):
            raise
        return
    finally:
        if detector is not None:
            detector.stop()
    await send({"type": "lifespan.shutdown.complete"})


class LifespanDriver:
    """Runs an ASGI app's lifespan protocol the way a server does: `await startup()`, then
    `await shutdown()` (the test client, `brace shell`)."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self._to_app: asyncio.Queue[Message] | None = None
        self._from_app: asyncio.Queue[Message] | None = None
        self._task: asyncio.Future[None] | None = None

    async def startup(self) -> None:
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        receive: Receive = self._to_app.get
        send: Send = self._from_app.put
        self._task = asyncio.ensure_future(self.app(scope, receive, send))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._reply()
        if message is None:
            return  # the app does not speak lifespan
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"application startup failed:\n{message.get('message', '')}")

    async def _reply(self) -> Message | None:
        assert self._from_app is not None and self._task is not None
        getter = asyncio.ensure_future(self._from_app.get())
        waiting: set[asyncio.Future[Any]] = {getter, self._task}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()
        if not self._task.cancelled():
            self._task.exception()  # mark as retrieved: apps without lifespan raise here
        return None

    async def shutdown(self) -> None:
        if self._task is None or self._task.done() or self._to_app is None:
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        message = await self._reply()
        await asyncio.wait({self._task}, timeout=5)
        if message is not None and message["type"] == "lifespan.shutdown.failed":
            raise RuntimeError(f"application shutdown failed:\n{message.get('message', '')}")

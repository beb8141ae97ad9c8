"""Work after the response: `BackgroundTasks` for one request, `@app.every(seconds)` for
periodic jobs that live as long as the app.

    @app.post("/signup")
    async def signup(form: ..., tasks: BackgroundTasks) -> ...:
        tasks.add(send_welcome_email, form.email)     # runs once the response is sent
        ...

    @app.every(60)
    async def purge_expired_sessions() -> None: ...
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

__all__ = ["BackgroundTasks", "PeriodicTasks", "background_tasks"]

logger = logging.getLogger("brace")


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


class BackgroundTasks:
    """Functions to call after the response has been sent, in the order added. Sync ones run
    in a worker thread. A failing task is logged with its traceback and the next one runs."""

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def add(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        self.tasks.append((fn, args, kwargs))

    async def run(self) -> None:
        while self.tasks:
            fn, args, kwargs = self.tasks.pop(0)
            try:
                if inspect.iscoroutinefunction(fn):
                    await fn(*args, **kwargs)
                else:
                    result = await asyncio.to_thread(fn, *args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
            except Exception:
                logger.exception("Background task %s failed", _name(fn))


async def background_tasks() -> AsyncIterator[BackgroundTasks]:
    """The dependency behind a `BackgroundTasks` parameter: tasks run after the response (not
    when the handler failed: nothing it promised happened)."""
    tasks = BackgroundTasks()
    yield tasks
    await tasks.run()


class PeriodicTasks:
    """Jobs started with the app and stopped at shutdown. A job never overlaps itself: the
    next run starts `seconds` after the previous one started, or right after it ended if it
    took longer."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], float, bool]] = []
        self._running: list[asyncio.Task[None]] = []

    def add(self, fn: Callable[[], Any], seconds: float, *, run_at_start: bool = True) -> None:
        if seconds <= 0:
            raise ValueError("a periodic task needs a positive interval")
        self.jobs.append((fn, seconds, run_at_start))

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._running = [
            loop.create_task(self._loop(fn, seconds, first), name=f"every {seconds}s {_name(fn)}")
            for fn, seconds, first in self.jobs
        ]

    async def stop(self) -> None:
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        self._running = []

    @staticmethod
    async def _loop(fn: Callable[[], Any], seconds: float, run_at_start: bool) -> None:
        if not run_at_start:
            await asyncio.sleep(seconds)
        while True:
            started = time.monotonic()
            try:
                if inspect.iscoroutinefunction(fn):
                    await fn()
                else:
                    await asyncio.to_thread(fn)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Periodic task %s failed", _name(fn))
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))

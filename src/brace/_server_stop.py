"""Know when the server begins to stop, so long-lived responses end instead of holding it.

An event stream lasts until its client leaves; a server that is asked to stop (Ctrl+C,
SIGTERM) waits for open responses, up to its graceful timeout, then cancels them with a
`CancelledError` traceback. Servers tell the app nothing until every connection is closed
(the lifespan shutdown comes after), so brace chains its own step in front of the server's
SIGINT/SIGTERM handlers (uvicorn and hypercorn install Python signal handlers): open streams
end cleanly the moment a stop is asked for, and the server exits at once.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["on_server_stop"]

_callbacks: set[Callable[[], None]] = set()
_watched_loops: set[int] = set()
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def on_server_stop(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (on the event loop) when the server is asked to stop; returns the
    function that cancels this. Does nothing off the main thread, where signals cannot be
    watched (the test client's app thread, say)."""
    _watch(asyncio.get_running_loop())
    _callbacks.add(callback)
    return lambda: _callbacks.discard(callback)


def _run_callbacks() -> None:
    for callback in list(_callbacks):
        _callbacks.discard(callback)
        callback()


def _watch(loop: asyncio.AbstractEventLoop) -> None:
    if id(loop) in _watched_loops or threading.current_thread() is not threading.main_thread():
        return
    _watched_loops.add(id(loop))
    for sig in _STOP_SIGNALS:
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue  # default or ignored: nobody serves here, leave it alone
        signal.signal(sig, _chained(loop, previous))


def _chained(loop: asyncio.AbstractEventLoop, previous: Callable[..., Any]) -> Any:
    def handler(signum: int, frame: FrameType | None) -> Any:
        if not loop.is_closed():
            loop.call_soon_threadsafe(_run_callbacks)
        return previous(signum, frame)

    return handler

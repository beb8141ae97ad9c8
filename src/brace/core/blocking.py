"""Debug-mode watchdog that names the handler line blocking the event loop.

A heartbeat callback on the loop stamps the time; a daemon thread notices when the stamp
goes stale past the threshold and samples the loop thread's stack. Nothing runs per request.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from types import CodeType, FrameType

__all__ = ["BlockingDetector"]

logger = logging.getLogger("brace.blocking")


class BlockingDetector:
    """Warn when a handler holds the event loop longer than `threshold` seconds."""

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = threshold
        self.handlers: dict[CodeType, str] = {}
        self._beat = time.monotonic()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, code: CodeType, description: str) -> None:
        """Report frames running `code` as the handler `description`."""
        self.handlers[code] = description

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start watching the running loop (call from inside it)."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stop.clear()
        self._heartbeat()
        self._thread = threading.Thread(
            target=self._watch, name="brace-blocking-detector", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None

    def _heartbeat(self) -> None:
        self._beat = time.monotonic()
        if self._loop is not None and not self._stop.is_set():
            self._timer = self._loop.call_later(self.threshold / 4, self._heartbeat)

    def _watch(self) -> None:
        reported_beat = 0.0
        interval = self.threshold / 4
        while not self._stop.wait(interval):
            beat = self._beat
            stalled = time.monotonic() - beat
            if stalled < self.threshold or beat == reported_beat:
                continue
            frame = sys._current_frames().get(self._loop_thread or 0)
            if frame is None:
                continue
            if self._report(frame, stalled):
                reported_beat = beat

    def _report(self, frame: FrameType, stalled: float) -> bool:
        innermost = frame
        current: FrameType | None = frame
        while current is not None:
            description = self.handlers.get(current.f_code)
            if description is not None:
                where = f"{current.f_code.co_filename}:{current.f_lineno}"
                inner = f"{innermost.f_code.co_filename}:{innermost.f_lineno}"
                detail = "" if inner == where else f" (innermost frame {inner})"
                logger.warning(
                    "%s has blocked the event loop for %.0f ms at %s%s. "
                    "Use `await` for I/O, or make it a plain `def` so it runs in a thread.",
                    description,
                    stalled * 1000,
                    where,
                    detail,
                )
                return True
            current = current.f_back
        return False

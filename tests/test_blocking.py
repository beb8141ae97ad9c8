"""Debug mode names the handler line that blocks the event loop."""

import time

import pytest

from brace import App
from brace.testing import TestClient


def test_blocking_async_handler_is_reported_with_its_line(caplog: pytest.LogCaptureFixture) -> None:
    app = App(debug=True, blocking_threshold=0.05)

    @app.get("/slow")
    async def slow_handler() -> str:
        time.sleep(0.3)  # the blocking line
        return "done"

    with TestClient(app) as client:
        assert client.get("/slow").text == "done"
    records = [r for r in caplog.records if r.name == "brace.blocking"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert "slow_handler" in message
    assert "test_blocking.py:" in message
    line = int(message.split("test_blocking.py:")[1].split()[0].rstrip(".)"))
    with open(__file__) as source:
        assert "time.sleep(0.3)" in source.readlines()[line - 1]


def test_awaiting_handlers_and_sync_handlers_are_not_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import asyncio

    app = App(debug=True, blocking_threshold=0.05)

    @app.get("/awaits")
    async def awaits() -> str:
        await asyncio.sleep(0.2)
        return "ok"

    @app.get("/thread")
    def in_thread() -> str:
        time.sleep(0.2)  # runs in a worker thread: the loop stays free
        return "ok"

    with TestClient(app) as client:
        assert client.get("/awaits").text == "ok"
        assert client.get("/thread").text == "ok"
    assert not [r for r in caplog.records if r.name == "brace.blocking"]


def test_detector_is_off_outside_debug() -> None:
    assert App().blocking_detector is None
    assert App(debug=True).blocking_detector is not None


def test_blocking_dependency_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    from typing import Annotated

    from brace import Depends

    app = App(debug=True, blocking_threshold=0.05)

    async def slow_settings() -> dict[str, int]:
        time.sleep(0.3)  # blocking call inside an async dependency: it runs on the loop
        return {"limit": 1}

    def sync_settings() -> dict[str, int]:
        time.sleep(0.3)  # a plain def dependency runs in the thread pool: no stall
        return {"limit": 2}

    @app.get("/with-dependency")
    async def uses_it(settings: Annotated[dict[str, int], Depends(slow_settings)]) -> int:
        return settings["limit"]

    @app.get("/with-sync-dependency")
    async def uses_sync(settings: Annotated[dict[str, int], Depends(sync_settings)]) -> int:
        return settings["limit"]

    with TestClient(app) as client:
        assert client.get("/with-dependency").text == "1"
        assert client.get("/with-sync-dependency").text == "2"
    messages = [r.getMessage() for r in caplog.records if r.name == "brace.blocking"]
    assert len(messages) == 1
    assert "dependency" in messages[0] and "slow_settings" in messages[0]

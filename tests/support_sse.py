"""Reading a server-sent event stream in a test while it is still open."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from brace.testing import TestClient
from brace.types import Message


class FeedReader:
    """GET `path` (a server-sent event stream), read in-process while it streams.

    TestClient collects a whole response before returning it, and this one never ends: the
    app is called directly on the client's event loop instead, its body chunks collected as
    they come, and a disconnect sent when the test is done.
    """

    def __init__(self, client: TestClient, path: str) -> None:
        self.client = client
        self.path = path
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = b""
        self._gone: asyncio.Event | None = None
        self._task: asyncio.Future[None] | None = None

    async def _start(self) -> None:
        self._gone = asyncio.Event()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "https",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"accept", b"text/event-stream")],
            "client": ("testclient", 50000),
            "server": ("testserver", 443),
            "state": dict(self.client.lifespan_state),
        }
        gone = self._gone
        sent_request = False

        async def receive() -> Message:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")

        self._task = asyncio.ensure_future(self.client.app(scope, receive, send))

    async def _wait(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert self._task is not None
            if self._task.done():
                self._task.result()
                raise AssertionError(f"the stream ended: {self.body!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the stream so far: {self.body!r}")
            await asyncio.sleep(0.01)

    async def _stop(self) -> None:
        assert self._gone is not None and self._task is not None
        self._gone.set()
        await asyncio.wait_for(self._task, timeout=5)

    def events(self) -> list[tuple[str, Any]]:
        """(event, decoded data) of every complete event so far; comments as ("", text)."""
        found: list[tuple[str, Any]] = []
        for block in self.body.decode().split("\n\n")[:-1]:
            kind = "message"
            data: list[str] = []
            comments: list[str] = []
            for line in block.split("\n"):
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "":
                    comments.append(value)
                elif field == "event":
                    kind = value
                elif field == "data":
                    data.append(value)
            if data:
                found.append((kind, json.loads("\n".join(data))))
            elif comments:
                found.append(("", comments[0]))
        return found

    def wait_for(self, kind: str, count: int = 1, timeout: float = 5.0) -> list[Any]:
        """The data of the events of this kind, once there are `count` of them."""

        def enough() -> bool:
            return len([k for k, _ in self.events() if k == kind]) >= count

        self.client.run(self._wait(enough, timeout))
        return [data for k, data in self.events() if k == kind]

    def __enter__(self) -> FeedReader:
        self.client.run(self._start())
        self.wait_for("ready")  # subscribed: nothing published from now on is missed
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.client.run(self._stop())

"""WebSocket sessions for TestClient: `with client.websocket_connect("/ws") as ws:`.

The app runs as a task on the client's event loop; this side talks to it through two queues,
exactly as a server would, so handshakes, refusals, closes and app errors behave as over a
real socket.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .types import ASGIApp, Message

if TYPE_CHECKING:
    from .testing import TestClient

__all__ = ["WebSocketDenied", "WebSocketTestSession"]


class WebSocketDenied(Exception):
    """The app refused the handshake: `status` is the HTTP status the client would see (403
    for a close before accept), `body` the HTTP answer's body when the app sent one."""

    def __init__(self, status: int, code: int | None = None, body: bytes = b"") -> None:
        super().__init__(status, code)
        self.status = status
        self.code = code
        self.body = body


class WebSocketClosed(Exception):
    """The app closed the connection; `code` and `reason` are what it sent."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WebSocketTestSession:
    """One client connection to the app under test."""

    def __init__(
        self,
        client: TestClient,
        app: ASGIApp,
        url: str,
        *,
        subprotocols: Sequence[str] = (),
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._client = client
        self.timeout = timeout  # seconds a receive waits for the app before TimeoutError
        self._app = app
        parts = urlsplit(url)
        scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
        host = parts.netloc
        raw_headers: list[tuple[bytes, bytes]] = [(b"host", host.encode())]
        cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
        if cookie:
            raw_headers.append((b"cookie", cookie.encode("latin-1")))
        extra = {k.lower(): v for k, v in (headers or {}).items()}
        if client._transport_origin and "origin" not in extra:
            http = "https" if scheme == "wss" else "http"
            extra["origin"] = f"{http}://{host}"
        raw_headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
        if subprotocols:
            raw_headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": scheme,
            "path": unquote(parts.path or "/"),
            "raw_path": (parts.path or "/").encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "client": ("testclient", 50000),
            "server": (parts.hostname or "testserver", parts.port or 443),
            "subprotocols": list(subprotocols),
            "extensions": {"websocket.http.response": {}},
            "state": dict(client.lifespan_state),
        }
        self.accepted_subprotocol: str | None = None
        self.accepted_headers: list[tuple[bytes, bytes]] = []
        self._to_app: asyncio.Queue[Message] | None = None
        self._from_app: asyncio.Queue[Message] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> WebSocketTestSession:
        self._client._ensure_started()
        self._client._loop.call(self._start())
        first = self._next()
        if first["type"] == "websocket.accept":
            self.accepted_subprotocol = first.get("subprotocol")
            self.accepted_headers = list(first.get("headers") or [])
            return self
        self._closed = True
        self._client._loop.call(self._finish())
        if first["type"] == "websocket.http.response.start":
            body = b""
            while True:
                part = self._next()
                body += part.get("body", b"")
                if not part.get("more_body", False):
                    break
            raise WebSocketDenied(first["status"], body=body)
        raise WebSocketDenied(403, first.get("code"))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._closed:
            self.close()

    async def _start(self) -> None:
        self._to_app = asyncio.Queue()
        self._from_app = asyncio.Queue()
        await self._to_app.put({"type": "websocket.connect"})
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        assert self._to_app is not None and self._from_app is not None
        to_app, from_app = self._to_app, self._from_app

        async def receive() -> Message:
            return await to_app.get()

        async def send(message: Message) -> None:
            await from_app.put(message)

        try:
            await self._app(self.scope, receive, send)
        finally:
            await from_app.put({"type": "brace.app_done"})

    async def _get(self, timeout: float | None = None) -> Message:
        assert self._from_app is not None and self._task is not None
        wait = self.timeout if timeout is None else timeout
        message = await asyncio.wait_for(self._from_app.get(), timeout=wait)
        if message["type"] == "brace.app_done" and self._task.done():
            self._task.result()  # re-raise an exception that escaped the app
            return {"type": "websocket.close", "code": 1006}
        return message

    def _next(self, timeout: float | None = None) -> Message:
        return self._client._loop.call(self._get(timeout))

    async def _finish(self) -> None:
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self.timeout)
            except asyncio.CancelledError:
                pass

    # -- talking ----------------------------------------------------------------------------

    def send(self, message: Message) -> None:
        assert self._to_app is not None
        queue = self._to_app
        self._client._loop.call(queue.put(message))

    def send_text(self, text: str) -> None:
        self.send({"type": "websocket.receive", "text": text})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any) -> None:
        self.send_text(json.dumps(data))

    def receive(self, timeout: float | None = None) -> Message:
        """The next message from the app; a close raises WebSocketClosed, and nothing within
        `timeout` seconds (default: the session's, 10) raises TimeoutError."""
        message = self._next(timeout)
        if message["type"] == "websocket.close":
            self._closed = True
            self._client._loop.call(self._finish())
            raise WebSocketClosed(message.get("code", 1000), message.get("reason") or "")
        return message

    def receive_text(self, timeout: float | None = None) -> str:
        return str(self.receive(timeout)["text"])

    def receive_bytes(self, timeout: float | None = None) -> bytes:
        return bytes(self.receive(timeout)["bytes"])

    def receive_json(self, timeout: float | None = None) -> Any:
        message = self.receive(timeout)
        return json.loads(message["text"] if message.get("text") is not None else message["bytes"])

    def close(self, code: int = 1000) -> None:
        """Disconnect as a client would, and wait for the app to finish."""
        if self._closed:
            return
        self._closed = True
        self.send({"type": "websocket.disconnect", "code": code})
        self._client._loop.call(self._finish())

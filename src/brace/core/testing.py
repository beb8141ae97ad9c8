"""Test clients: call an ASGI app in-process through httpx, lifespan and cookies included.

Needs the `testing` extra (`pip install "brace[testing]"`) for httpx.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import unquote

try:
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('brace.testing needs httpx: pip install "brace[testing]"') from exc

from .lifespan import LifespanDriver
from .testing_ws import WebSocketClosed, WebSocketDenied, WebSocketTestSession
from .types import ASGIApp, Message

__all__ = [
    "AsyncTestClient",
    "TestClient",
    "WebSocketClosed",
    "WebSocketDenied",
    "WebSocketTestSession",
]

T = TypeVar("T")


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class _ASGITransport(httpx.AsyncBaseTransport):
    """Turns an httpx request into one ASGI call and collects the response."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        client: tuple[str, int],
        root_path: str,
        state: dict[str, Any],
        raise_app_exceptions: bool,
        send_origin: bool = True,
    ) -> None:
        self.app = app
        self.client = client
        self.root_path = root_path
        self.state = state
        self.raise_app_exceptions = raise_app_exceptions
        self.send_origin = send_origin

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if (
            self.send_origin
            and request.method not in _SAFE_METHODS
            and "origin" not in request.headers
        ):
            # Browsers name the page's origin on every POST; a test client from the same
            # site does too (pass headers={"Origin": ...} to act as another site).
            request.headers["origin"] = f"{request.url.scheme}://{request.url.netloc.decode()}"
        raw_path = request.url.raw_path.split(b"?", 1)[0]
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": self.root_path + unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "query_string": url.query,
            "root_path": self.root_path,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": self.client,
            "server": (url.host, port),
            "state": dict(self.state),
        }
        exchange = _Exchange(body)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except Exception:
            if self.raise_app_exceptions or exchange.status is None:
                raise
        finally:
            exchange.done.set()
        if exchange.status is None:
            raise RuntimeError("the app returned without sending a response")
        if not exchange.complete:
            # A real server would drop the connection: the client must not see a success.
            raise RuntimeError("the app returned without completing the response body")
        return httpx.Response(
            exchange.status,
            headers=exchange.headers,
            stream=httpx.ByteStream(b"".join(exchange.chunks)),
            request=request,
        )


class _Exchange:
    """One request's ASGI channel: hands the app the body and collects what it sends back."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent_body = False
        self.complete = False
        self.done = asyncio.Event()
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []

    async def receive(self) -> Message:
        if not self.sent_body:
            self.sent_body = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self.status is not None:
                raise RuntimeError("the app started a second response")
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            if self.status is None:
                raise RuntimeError("the app sent a body before starting the response")
            self.chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self.complete = True
                self.done.set()


class _LoopThread:
    """An event loop in a background thread, so sync tests can drive an async app."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.loop is not None:
            return
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="brace-testclient", daemon=True
        )
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        self.start()
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        if self.loop is None or self._thread is None:
            return
        loop = self.loop

        async def cancel_leftovers() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await loop.shutdown_asyncgens()
            await loop.shutdown_default_executor()

        asyncio.run_coroutine_threadsafe(cancel_leftovers(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join()
        loop.close()
        self.loop = None
        self._thread = None


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, inner: _ASGITransport, client: TestClient) -> None:
        self.inner = inner
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.client._ensure_started()
        response = self.client._loop.call(self.inner.handle_async_request(request))
        return response


class TestClient(httpx.Client):
    """A synchronous httpx client wired to an ASGI app: `with TestClient(app) as client:`.

    Entering runs the app's start-up; leaving runs its shutdown. Cookies persist across
    requests. The default base URL is https so that Secure cookies round-trip as in production.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "https://testserver",
        *,
        raise_app_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("testclient", 50000),
        follow_redirects: bool = False,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        send_origin: bool = True,
    ) -> None:
        self.app = app
        self.lifespan_state: dict[str, Any] = {}
        self._transport_origin = send_origin
        self._loop = _LoopThread()
        self._lifespan = LifespanDriver(app, self.lifespan_state)
        self._started = False
        inner = _ASGITransport(
            app,
            client=client,
            root_path=root_path,
            state=self.lifespan_state,
            raise_app_exceptions=raise_app_exceptions,
            send_origin=send_origin,
        )
        super().__init__(
            transport=_SyncTransport(inner, self),
            base_url=base_url,
            follow_redirects=follow_redirects,
            headers=headers,
            cookies=cookies,
        )

    def _ensure_started(self) -> None:
        if not self._started:
            self._started = True
            self._loop.call(self._lifespan.startup())

    def websocket_connect(
        self,
        url: str,
        *,
        subprotocols: Sequence[str] = (),
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> WebSocketTestSession:
        """Open a WebSocket to the app: `with client.websocket_connect("/ws") as ws:`. The
        client's cookies travel with the handshake, and an Origin naming the base URL (as
        browsers send). A refused handshake raises WebSocketDenied; a receive that gets
        nothing within `timeout` seconds raises TimeoutError (`ws.receive(timeout=...)`
        overrides it for one call)."""
        return WebSocketTestSession(
            self,
            self.app,
            str(self.base_url.join(url)),
            subprotocols=subprotocols,
            headers=headers,
            timeout=timeout,
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the app's event loop and return its result: seed a database,
        inspect app state (`client.run(load_user(1))`). Starts the app first if needed."""
        self._ensure_started()
        return self._loop.call(coro)

    def __enter__(self) -> TestClient:
        super().__enter__()
        self._ensure_started()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self._started and self._loop.loop is not None:
                self._started = False
                self._loop.call(self._lifespan.shutdown())
        finally:
            self._loop.stop()
            super().close()


class AsyncTestClient(httpx.AsyncClient):
    """The async twin of TestClient: `async with AsyncTestClient(app) as client:`."""

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "https://testserver",
        *,
        raise_app_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("testclient", 50000),
        follow_redirects: bool = False,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        send_origin: bool = True,
    ) -> None:
        self.app = app
        self.lifespan_state: dict[str, Any] = {}
        self._lifespan = LifespanDriver(app, self.lifespan_state)
        super().__init__(
            transport=_ASGITransport(
                app,
                client=client,
                root_path=root_path,
                state=self.lifespan_state,
                raise_app_exceptions=raise_app_exceptions,
                send_origin=send_origin,
            ),
            base_url=base_url,
            follow_redirects=follow_redirects,
            headers=headers,
            cookies=cookies,
        )

    async def __aenter__(self) -> AsyncTestClient:
        await super().__aenter__()
        await self._lifespan.startup()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            await self._lifespan.shutdown()
        finally:
            await super().__aexit__(exc_type, exc_value, traceback)

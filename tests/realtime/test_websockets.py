"""WebSocket routes over the TestClient: handshake, parameters and dependencies, typed messages,
refusals, closes, errors, size limits, routers, and the Origin check for cookie sessions."""

from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
import pytest

from brace import App, Depends, Header, HTTPError, Query, Request, Router
from brace.core.handlers import HandlerError
from brace.sessions import SessionMiddleware
from brace.testing import TestClient, WebSocketClosed, WebSocketDenied
from brace.websockets import WebSocket, WebSocketClose, WebSocketDisconnect


class Chat(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]


events: list[str] = []


async def resource() -> AsyncIterator[str]:
    events.append("open")
    try:
        yield "db"
    finally:
        events.append("closed")


async def token(t: Annotated[str, Query()] = "") -> str:
    if t != "ok":
        raise HTTPError(401, "A valid token is required.")
    return t


def make_app() -> App:
    app = App()

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws:
            if isinstance(message, str):
                await ws.send_text(message)
            else:
                await ws.send_bytes(message)

    @app.websocket("/rooms/{room}", receives=Chat)
    async def room(
        ws: WebSocket,
        room: str,
        name: Annotated[str, Query(max_length=20)] = "anon",
        agent: Annotated[str, Header(alias="user-agent")] = "",
        db: Annotated[str, Depends(resource)] = "",
    ) -> None:
        await ws.accept(subprotocol="chat.v1" if "chat.v1" in ws.subprotocols else None)
        await ws.send_json({"joined": room, "name": name, "db": db})
        async for message in ws.messages():
            await ws.send_json({"name": name, "text": message.text})

    @app.websocket("/strict", receives=Chat, on_invalid="close")
    async def strict(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws.messages():
            await ws.send_text(message.text)

    @app.websocket("/secure", dependencies=[Depends(token)])
    async def secure(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("welcome")

    @app.websocket("/refuse")
    async def refuse(ws: WebSocket) -> None:
        await ws.close(4000)

    @app.websocket("/kick")
    async def kick(ws: WebSocket) -> None:
        await ws.accept()
        raise WebSocketClose(4001, "bye")

    @app.websocket("/crash")
    async def crash(ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("boom")

    @app.websocket("/small", max_message_size=10)
    async def small(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        await ws.send_text("unreachable")

    @app.websocket("/json")
    async def json_only(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json(await ws.receive_json())

    @app.websocket("/disconnects")
    async def disconnects(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_text()
        except WebSocketDisconnect as gone:
            events.append(f"gone {gone.code}")
            raise

    router = Router(prefix="/v2")

    @router.websocket("/ping", name="ping")
    async def ping(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("pong")

    app.include(router)
    return app


@pytest.fixture
def client() -> TestClient:
    events.clear()
    with TestClient(make_app()) as c:
        yield c


def test_echo_text_and_bytes(client: TestClient) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_text("héllo")
        assert ws.receive_text() == "héllo"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"\x00\x01"


def test_parameters_dependencies_and_subprotocols(client: TestClient) -> None:
    with client.websocket_connect(
        "/rooms/lobby?name=ada", subprotocols=["chat.v1"], headers={"User-Agent": "pytest"}
    ) as ws:
        assert ws.accepted_subprotocol == "chat.v1"
        assert ws.receive_json() == {"joined": "lobby", "name": "ada", "db": "db"}
        ws.send_json({"text": "hi"})
        assert ws.receive_json() == {"name": "ada", "text": "hi"}
        assert events == ["open"]
    assert events == ["open", "closed"]  # dependencies cleaned up after the disconnect


def test_invalid_messages_get_error_frames_and_the_connection_lives(client: TestClient) -> None:
    with client.websocket_connect("/rooms/lobby") as ws:
        ws.receive_json()
        ws.send_json({"text": "x" * 50})
        error = ws.receive_json()
        assert error["type"] == "error" and error["errors"][0]["loc"] == "message.text"
        for hostile in ("not json", "[1, 2", '{"text": 5}', "{}", '"<script>"'):
            ws.send_text(hostile)
            assert ws.receive_json()["type"] == "error"
        ws.send_bytes(b"\xff\xfe")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"text": "still here"})
        assert ws.receive_json() == {"name": "anon", "text": "still here"}


def test_invalid_message_can_close_with_1007(client: TestClient) -> None:
    with client.websocket_connect("/strict") as ws:
        ws.send_json({"text": ""})
        with pytest.raises(WebSocketClosed) as closed:
            ws.receive()
        assert closed.value.code == 1007


def test_invalid_handshake_parameters_are_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDenied) as denied:
        with client.websocket_connect("/rooms/lobby?name=" + "x" * 50):
            pass
    assert denied.value.status == 422
    assert b"query.name" in denied.value.body


def test_dependencies_can_refuse_the_handshake(client: TestClient) -> None:
    with pytest.raises(WebSocketDenied) as denied:
        with client.websocket_connect("/secure"):
            pass
    assert denied.value.status == 401 and b"valid token" in denied.value.body
    with client.websocket_connect("/secure?t=ok") as ws:
        assert ws.receive_text() == "welcome"


def test_unknown_paths_and_explicit_refusals_are_403(client: TestClient) -> None:
    for path in ("/nowhere", "/refuse"):
        with pytest.raises(WebSocketDenied) as denied:
            with client.websocket_connect(path):
                pass
        assert denied.value.status == 403


def test_closing_from_the_handler(client: TestClient) -> None:
    with client.websocket_connect("/kick") as ws:
        with pytest.raises(WebSocketClosed) as closed:
            ws.receive()
        assert (closed.value.code, closed.value.reason) == (4001, "bye")


def test_a_crash_closes_with_1011(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with client.websocket_connect("/crash") as ws:
        with pytest.raises(WebSocketClosed) as closed:
            ws.receive()
        assert closed.value.code == 1011
    assert "Unhandled RuntimeError in websocket handler" in caplog.text


def test_oversized_messages_close_with_1009(client: TestClient) -> None:
    with client.websocket_connect("/small") as ws:
        ws.send_text("x" * 11)
        with pytest.raises(WebSocketClosed) as closed:
            ws.receive()
        assert closed.value.code == 1009


def test_malformed_json_closes_with_1007(client: TestClient) -> None:
    with client.websocket_connect("/json") as ws:
        ws.send_text('{"a": [1, 2]}')
        assert ws.receive_json() == {"a": [1, 2]}
    with client.websocket_connect("/json") as ws:
        ws.send_text("{nope")
        with pytest.raises(WebSocketClosed) as closed:
            ws.receive()
        assert closed.value.code == 1007


def test_client_disconnect_reaches_the_handler(client: TestClient) -> None:
    with client.websocket_connect("/disconnects") as ws:
        ws.close(1001)
    assert "gone 1001" in events


def test_router_websockets_and_url_for(client: TestClient) -> None:
    with client.websocket_connect("/v2/ping") as ws:
        assert ws.receive_text() == "pong"
    assert client.app.url_for("ping") == "/v2/ping"  # type: ignore[attr-defined]


def test_http_requests_to_a_websocket_path_are_404(client: TestClient) -> None:
    assert client.get("/echo").status_code == 404


def test_sync_handlers_and_body_parameters_are_refused_at_start_up() -> None:
    app = App()

    @app.websocket("/sync")
    def sync_handler(ws: WebSocket) -> None: ...

    with pytest.raises(HandlerError, match="must be `async def`"):
        app.compile()

    app2 = App()

    @app2.websocket("/body")
    async def with_body(ws: WebSocket, chat: Chat) -> None: ...

    with pytest.raises(HandlerError, match="has no body"):
        app2.compile()
    with pytest.raises(ValueError, match="on_invalid"):
        App().websocket("/x", on_invalid="ignore")(lambda ws: None)


def test_cookie_sessions_need_a_same_site_origin() -> None:
    app = make_app()
    app.add_middleware(SessionMiddleware, secret_key="a-websocket-test-secret-long-enough")

    @app.get("/login")
    async def login(request: Request) -> str:
        request.session["user"] = "ada"
        return "ok"

    with TestClient(app) as client:
        client.get("/login")
        with client.websocket_connect("/echo") as ws:  # same-site Origin, like a browser
            ws.send_text("ok")
            assert ws.receive_text() == "ok"
        with pytest.raises(WebSocketDenied):
            with client.websocket_connect("/echo", headers={"Origin": "https://evil.example"}):
                pass
    # Without the session cookie (a token-authenticated client), any Origin may connect.
    with TestClient(make_app()) as fresh:
        with fresh.websocket_connect("/echo", headers={"Origin": "https://elsewhere"}) as ws:
            ws.send_text("fine")
            assert ws.receive_text() == "fine"

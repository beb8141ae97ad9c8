"""HTTPSRedirectMiddleware: 308 to https/wss, ports, paths, and hostile Host headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from brace.middleware import HTTPSRedirectMiddleware
from brace.testing import TestClient
from brace.types import ASGIApp, Message, Receive, Scope, Send

RunRaw = Callable[[ASGIApp, Scope], list[Message]]  # the `run_raw` fixture (conftest.py)


class Hello:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        self.calls += 1
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"secure hello"})


def fetch(
    app: ASGIApp,
    url: str = "/",
    method: str = "GET",
    base_url: str = "http://testserver",
    **kwargs: Any,
) -> httpx.Response:
    with TestClient(app, base_url=base_url) as client:
        return client.request(method, url, **kwargs)


def ws_scope(host: bytes = b"example.com", **extra: Any) -> Scope:
    return {
        "type": "websocket",
        "scheme": "ws",
        "path": "/chat",
        "raw_path": b"/chat",
        "query_string": b"room=1",
        "headers": [(b"host", host)],
        **extra,
    }


def test_http_is_redirected_with_path_and_query() -> None:
    inner = Hello()
    response = fetch(HTTPSRedirectMiddleware(inner), "/a/b?x=1&y=%20")
    assert response.status_code == 308
    assert response.headers["location"] == "https://testserver/a/b?x=1&y=%20"
    assert inner.calls == 0


def test_post_gets_308_so_method_and_body_are_kept() -> None:
    response = fetch(HTTPSRedirectMiddleware(Hello()), "/submit", method="POST", content=b"x")
    assert response.status_code == 308


def test_https_passes_through() -> None:
    response = fetch(HTTPSRedirectMiddleware(Hello()), base_url="https://testserver")
    assert response.status_code == 200
    assert response.text == "secure hello"


@pytest.mark.parametrize(
    ("host", "location"),
    [
        ("example.com", "https://example.com/"),
        ("example.com:80", "https://example.com/"),
        ("example.com:443", "https://example.com/"),
        ("example.com:8080", "https://example.com:8080/"),
        ("[::1]:80", "https://[::1]/"),
        ("127.0.0.1:8000", "https://127.0.0.1:8000/"),
    ],
)
def test_default_ports_are_dropped(host: str, location: str) -> None:
    response = fetch(HTTPSRedirectMiddleware(Hello()), headers={"Host": host})
    assert response.status_code == 308
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    "host",
    [
        "",
        "example.com\r\nSet-Cookie: x=1",
        "evil.com/path",
        "user@evil.com",
        "example.com:abc",
        "a" * 10_000,
    ],
)
def test_hostile_host_headers_get_400(host: str) -> None:
    inner = Hello()
    response = fetch(HTTPSRedirectMiddleware(inner), headers={"Host": host})
    assert response.status_code == 400
    assert response.text == "Invalid host header"
    assert "location" not in response.headers
    assert "set-cookie" not in response.headers
    assert inner.calls == 0


def test_two_host_headers_get_400_not_a_fallback(run_raw: RunRaw) -> None:
    scope: Scope = {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", b"example.com"), (b"host", b"evil.com")],
        "server": ("10.0.0.1", 80),
    }
    start, body = run_raw(HTTPSRedirectMiddleware(Hello()), scope)
    assert start["status"] == 400
    assert body["body"] == b"Invalid host header"


def test_encoded_crlf_in_path_stays_encoded() -> None:
    response = fetch(HTTPSRedirectMiddleware(Hello()), "/x%0D%0ASet-Cookie:%20a=1?q=%0A")
    assert response.headers["location"] == "https://testserver/x%0D%0ASet-Cookie:%20a=1?q=%0A"
    assert "set-cookie" not in response.headers


def test_path_without_raw_path_is_percent_encoded(run_raw: RunRaw) -> None:
    scope: Scope = {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "root_path": "/api",
        "path": "/café\r\n",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
    }
    start, _ = run_raw(HTTPSRedirectMiddleware(Hello()), scope)
    assert dict(start["headers"])[b"location"] == b"https://example.com/api/caf%C3%A9%0D%0A"


def test_missing_host_falls_back_to_the_server_address(run_raw: RunRaw) -> None:
    scope: Scope = {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [],
        "server": ("10.0.0.1", 8080),
    }
    start, _ = run_raw(HTTPSRedirectMiddleware(Hello()), scope)
    assert start["status"] == 308
    assert dict(start["headers"])[b"location"] == b"https://10.0.0.1:8080/"
    no_server = {**scope, "server": None}
    start, _ = run_raw(HTTPSRedirectMiddleware(Hello()), no_server)
    assert start["status"] == 400


def test_websocket_is_redirected_when_the_server_supports_http_responses(run_raw: RunRaw) -> None:
    inner = Hello()
    scope = ws_scope(extensions={"websocket.http.response": {}})
    messages = run_raw(HTTPSRedirectMiddleware(inner), scope)
    assert messages[0]["type"] == "websocket.http.response.start"
    assert messages[0]["status"] == 308
    assert dict(messages[0]["headers"])[b"location"] == b"wss://example.com/chat?room=1"
    assert inner.calls == 0


def test_websocket_is_refused_when_the_server_cannot_redirect(run_raw: RunRaw) -> None:
    inner = Hello()
    messages = run_raw(HTTPSRedirectMiddleware(inner), ws_scope())
    assert messages == [{"type": "websocket.close", "code": 1008}]
    assert inner.calls == 0


def test_websocket_with_bad_host_is_closed(run_raw: RunRaw) -> None:
    messages = run_raw(HTTPSRedirectMiddleware(Hello()), ws_scope(host=b"bad host"))
    assert messages == [{"type": "websocket.close", "code": 1008}]


def test_wss_passes_through(run_raw: RunRaw) -> None:
    messages = run_raw(HTTPSRedirectMiddleware(Hello()), {**ws_scope(), "scheme": "wss"})
    assert messages == [{"type": "websocket.accept"}]


def test_lifespan_passes_straight_through(run_raw: RunRaw) -> None:
    seen: list[Scope] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    scope: Scope = {"type": "lifespan"}
    run_raw(HTTPSRedirectMiddleware(inner), scope)
    assert seen == [scope]

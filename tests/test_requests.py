"""Request: lazy parsing, body limits, JSON, cookies, headers, URL and client address."""

import asyncio
from typing import Any

import pytest

from brace import App, HTTPError, Request
from brace.datastructures import Headers, QueryParams
from brace.testing import TestClient


def echo_app(**options: Any) -> App:
    app = App(**options)

    @app.post("/body")
    async def body(request: Request) -> bytes:
        return await request.body()

    @app.post("/json")
    async def json(request: Request) -> Any:
        return {"got": await request.json()}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    @app.post("/twice")
    async def twice(request: Request) -> dict[str, bool]:
        first = await request.body()
        second = await request.body()
        return {"same": first == second}

    @app.get("/info")
    async def info(request: Request) -> dict[str, Any]:
        return {
            "method": request.method,
            "path": request.path,
            "url": str(request.url),
            "base_url": str(request.base_url),
            "query": request.query_params.multi_items(),
            "tags": request.query_params.getall("tag"),
            "agent": request.headers.get("user-agent"),
            "multi": request.headers.getall("x-multi"),
            "cookies": request.cookies,
            "client": list(request.client or ()),
        }

    return app


def test_body_json_and_stream() -> None:
    with TestClient(echo_app()) as client:
        assert client.post("/body", content=b"abc").content == b"abc"
        assert client.post("/json", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}
        assert client.post("/stream", content=b"x" * 5000).json() == {"size": 5000}
        assert client.post("/twice", content=b"abc").json() == {"same": True}


def test_request_details() -> None:
    with TestClient(echo_app()) as client:
        response = client.get(
            "/info?tag=a&tag=b&x=%C3%A9",
            headers=[
                ("User-Agent", "pytest"),
                ("X-Multi", "1"),
                ("x-multi", "2"),
                ("Cookie", 'a=1; b="quoted value"; broken; =x; c=3'),
            ],
        )
    data = response.json()
    assert data["method"] == "GET"
    assert data["path"] == "/info"
    assert data["url"] == "https://testserver/info?tag=a&tag=b&x=%C3%A9"
    assert data["base_url"] == "https://testserver/"
    assert data["query"] == [["tag", "a"], ["tag", "b"], ["x", "é"]]
    assert data["tags"] == ["a", "b"]
    assert data["agent"] == "pytest"
    assert data["multi"] == ["1", "2"]
    assert data["cookies"] == {"a": "1", "b": "quoted value", "c": "3"}
    assert data["client"] == ["testclient", 50000]


def test_body_over_the_limit_is_413_from_content_length_before_reading() -> None:
    with TestClient(echo_app(max_body_size=10)) as client:
        response = client.post("/body", content=b"x" * 11)
        ok = client.post("/body", content=b"x" * 10)
    assert response.status_code == 413
    assert "larger than 10 bytes" in response.json()["detail"]
    assert ok.status_code == 200


def test_body_over_the_limit_without_content_length_is_413_while_streaming() -> None:
    app = echo_app(max_body_size=10)
    messages = [
        {"type": "http.request", "body": b"x" * 6, "more_body": True},
        {"type": "http.request", "body": b"x" * 6, "more_body": True},
        {"type": "http.request", "body": b"never read", "more_body": False},
    ]
    sent = run_raw(app, "POST", "/body", messages, headers=[])
    assert sent[0]["status"] == 413
    assert len(messages) == 1  # stopped reading as soon as the limit was passed


def test_body_in_several_messages_is_joined() -> None:
    messages = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"c", "more_body": False},
    ]
    sent = run_raw(echo_app(), "POST", "/body", messages)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"abc"


def test_json_errors_are_4xx() -> None:
    with TestClient(echo_app()) as client:
        malformed = client.post(
            "/json", content=b'{"a": ', headers={"content-type": "application/json"}
        )
        wrong_type = client.post(
            "/json", content=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"}
        )
        empty = client.post("/json", content=b"", headers={"content-type": "application/json"})
        bad_utf8 = client.post(
            "/json", content=b'{"a": "\xff"}', headers={"content-type": "application/json"}
        )
        too_deep = client.post(
            "/json", content=b"[" * 100_000, headers={"content-type": "application/json"}
        )
        bad_length = client.post("/body", content=b"abc", headers={"content-length": "abc"})
    assert malformed.status_code == 400 and "Malformed JSON" in malformed.json()["detail"]
    assert wrong_type.status_code == 415
    assert empty.status_code == 400
    assert bad_utf8.status_code == 400
    assert too_deep.status_code == 400
    assert bad_length.status_code == 400


def test_json_over_the_limit_is_413() -> None:
    with TestClient(echo_app(max_body_size=100)) as client:
        response = client.post("/json", json={"a": "x" * 200})
    assert response.status_code == 413


def test_invalid_utf8_in_the_query_is_400() -> None:
    with TestClient(echo_app()) as client:
        response = client.get("/info?x=%ff%fe")
    assert response.status_code == 400
    assert "UTF-8" in response.json()["detail"]


def run_raw(
    app: Any,
    method: str,
    path: str,
    messages: list[dict[str, Any]],
    headers: list[tuple[bytes, bytes]] | None = None,
    raw_path: bytes | None = None,
) -> list[dict[str, Any]]:
    """Call the ASGI app with hand-made messages; returns what it sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers if headers is not None else [],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return sent


def test_client_disconnect_mid_body_sends_nothing_and_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = echo_app()
    messages = [
        {"type": "http.request", "body": b"partial", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent = run_raw(app, "POST", "/body", messages)
    assert sent == []
    assert "Unhandled" not in caplog.text


def test_headers_and_query_params_datastructures() -> None:
    headers = Headers({"Content-Type": "text/plain", "X-A": "1"})
    assert headers["content-type"] == "text/plain"
    assert "X-a" in headers and 3 not in headers
    assert list(headers) == ["content-type", "x-a"]
    assert len(headers) == 2
    with pytest.raises(KeyError):
        headers["missing"]
    params = QueryParams("a=1&a=2&b=")
    assert params["a"] == "2"  # the last value, like most servers
    assert params.getall("a") == ["1", "2"]
    assert params["b"] == ""
    assert str(params) == "a=1&a=2&b="
    with pytest.raises(UnicodeDecodeError):
        QueryParams(b"a=%ff")
    with pytest.raises(UnicodeDecodeError):
        QueryParams(b"a=\xff")  # raw, unescaped invalid UTF-8
    assert QueryParams(b"a=x%20y+z&%C3%A9=%E2%82%AC&flag&&").multi_items() == [
        ("a", "x y z"),
        ("é", "€"),
        ("flag", ""),
    ]
    assert QueryParams(b"a=%zz")["a"] == "%zz"  # not an escape: kept as sent


def test_http_error_validates_status() -> None:
    with pytest.raises(ValueError):
        HTTPError(200)

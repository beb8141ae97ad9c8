"""Response classes: headers, cookies with secure defaults, redirects, streaming."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from brace import (
    App,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from brace.testing import TestClient


def serve(response_factory: Any, debug: bool = False) -> App:
    app = App(debug=debug)

    @app.get("/")
    async def index() -> Response:
        return response_factory()  # type: ignore[no-any-return]

    return app


def test_basic_response_classes() -> None:
    cases = [
        (lambda: PlainTextResponse("hi"), "text/plain; charset=utf-8", b"hi"),
        (lambda: HTMLResponse("<p>hi</p>"), "text/html; charset=utf-8", b"<p>hi</p>"),
        (lambda: JSONResponse({"a": None}), "application/json", b'{"a":null}'),
        (lambda: Response(b"raw", media_type="image/png"), "image/png", b"raw"),
    ]
    for factory, content_type, body in cases:
        with TestClient(serve(factory)) as client:
            response = client.get("/")
        assert response.headers["content-type"] == content_type
        assert response.content == body


def test_headers_can_be_changed_after_construction() -> None:
    response = PlainTextResponse("x", headers={"X-One": "1"})
    response.headers["x-two"] = "2"
    response.headers.append("vary", "Accept")
    response.headers.add_vary("Origin")
    response.headers.add_vary("accept")
    del response.headers["x-one"]
    assert response.headers["x-two"] == "2"
    assert response.headers["vary"] == "Accept, Origin"
    assert "x-one" not in response.headers
    with pytest.raises(KeyError):
        del response.headers["x-one"]


def test_cookies_are_httponly_lax_and_secure_by_default() -> None:
    def factory() -> Response:
        response = PlainTextResponse("x")
        response.set_cookie("session", "abc", max_age=60)
        response.delete_cookie("old")
        return response

    with TestClient(serve(factory)) as client:
        cookies = client.get("/").headers.get_list("set-cookie")
    assert cookies[0].startswith("session=abc;")
    for attribute in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=60"):
        assert attribute in cookies[0]
    assert cookies[1].startswith("old=")
    assert "Max-Age=0" in cookies[1]


def test_cookies_are_not_secure_in_debug_so_http_localhost_works() -> None:
    def factory() -> Response:
        response = PlainTextResponse("x")
        response.set_cookie("session", "abc")
        return response

    with TestClient(serve(factory, debug=True)) as client:
        cookie = client.get("/").headers["set-cookie"]
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie


def test_cookie_values_cannot_inject_attributes_or_headers() -> None:
    def factory() -> Response:
        response = PlainTextResponse("x")
        response.set_cookie("c", "v; Domain=evil.example\r\nX-Injected: 1")
        return response

    with TestClient(serve(factory)) as client:
        response = client.get("/")
    assert "x-injected" not in response.headers
    cookie = response.headers["set-cookie"]
    assert "Domain=evil.example;" not in cookie
    assert cookie.startswith('c="')


def test_samesite_none_forces_secure_and_bad_samesite_is_refused() -> None:
    response = PlainTextResponse("x")
    with pytest.raises(ValueError):
        response.set_cookie("a", "b", samesite="sideways")  # type: ignore[arg-type]

    def factory() -> Response:
        r = PlainTextResponse("x")
        r.set_cookie("a", "b", samesite="none", secure=False)
        return r

    with TestClient(serve(factory, debug=True)) as client:
        cookie = client.get("/").headers["set-cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie


def test_redirects() -> None:
    with TestClient(serve(lambda: RedirectResponse("/next?a=1"))) as client:
        response = client.get("/")
    assert response.status_code == 302
    assert response.headers["location"] == "/next?a=1"
    assert RedirectResponse("/x", 303).url == "/x"
    with pytest.raises(ValueError):
        RedirectResponse("/x\r\nSet-Cookie: a=b")


def test_streaming_from_async_and_sync_iterators() -> None:
    async def agen() -> AsyncIterator[str]:
        for i in range(3):
            yield f"{i},"

    def gen() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    with TestClient(serve(lambda: StreamingResponse(agen(), media_type="text/csv"))) as client:
        response = client.get("/")
    assert response.text == "0,1,2,"
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "content-length" not in response.headers
    with TestClient(serve(lambda: StreamingResponse(gen()))) as client:
        assert client.get("/").content == b"ab"


def test_streaming_stops_and_closes_the_generator_when_the_client_leaves() -> None:
    closed = asyncio.Event()
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        try:
            while True:
                produced += 1
                yield b"tick\n"
                await asyncio.sleep(0.001)
        finally:
            closed.set()

    response = StreamingResponse(endless())
    sent: list[dict[str, Any]] = []

    async def main() -> None:
        async def receive() -> dict[str, Any]:
            await asyncio.sleep(0.05)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asyncio.wait_for(response({"type": "http"}, receive, send), timeout=5)

    asyncio.run(main())
    assert closed.is_set()
    assert 1 < produced < 1000
    assert sent[0]["type"] == "http.response.start"


def test_streaming_error_before_the_first_chunk_is_a_clean_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        raise RuntimeError("boom")
        yield b""  # pragma: no cover

    with TestClient(serve(lambda: StreamingResponse(broken()))) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert "boom" not in response.text
    assert "Unhandled RuntimeError" in caplog.text


def test_streaming_error_after_the_first_chunk_drops_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("boom")

    with TestClient(serve(lambda: StreamingResponse(broken()))) as client:
        # Headers were sent: the only honest signal left is an incomplete response.
        with pytest.raises(RuntimeError, match="without completing"):
            client.get("/")
    assert caplog.text.count("Unhandled RuntimeError") == 1

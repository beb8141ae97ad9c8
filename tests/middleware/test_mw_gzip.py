"""GZipMiddleware: when it compresses, when it must not, and streamed bodies."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import httpx
import pytest

from brace.middleware import GZipMiddleware
from brace.testing import TestClient
from brace.types import ASGIApp, Message, Receive, Scope, Send

BIG = b"brace compresses repetitive text very well. " * 100  # 4500 bytes


def body_app(
    body: bytes = BIG,
    status: int = 200,
    headers: list[tuple[bytes, bytes]] | None = None,
    content_type: bytes = b"text/plain; charset=utf-8",
) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        raw = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            *(headers or []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return app


def streaming_app(chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        raw = [(b"content-type", b"text/plain"), *(headers or [])]
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


def fetch(
    app: ASGIApp, method: str = "GET", accept_encoding: str | None = "gzip", **kwargs: Any
) -> httpx.Response:
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding is not None else {}

    with TestClient(app, base_url="http://testserver") as client:
        return client.request(method, "/", headers=headers, **kwargs)


def run_raw(app: ASGIApp, headers: list[tuple[bytes, bytes]], method: str = "GET") -> list[Message]:
    """Drive the app directly and return every message it sent, body bytes untouched."""
    sent: list[Message] = []
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": "/",
        "scheme": "http",
        "query_string": b"",
        "headers": headers,
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def go() -> None:
        await app(scope, receive, send)

    asyncio.run(go())
    return sent


def header(message: Message, name: bytes) -> bytes | None:
    values = [v for k, v in message["headers"] if k.lower() == name]
    assert len(values) <= 1, f"{name!r} sent {len(values)} times"
    return values[0] if values else None


GZIP = [(b"accept-encoding", b"gzip")]


# --- compressing ---------------------------------------------------------------------------


def test_large_body_is_compressed_with_correct_length_and_vary() -> None:
    start, body = run_raw(GZipMiddleware(body_app()), GZIP)
    assert header(start, b"content-encoding") == b"gzip"
    assert header(start, b"vary") == b"Accept-Encoding"
    assert header(start, b"content-length") == str(len(body["body"])).encode()
    assert len(body["body"]) < len(BIG)
    assert gzip.decompress(body["body"]) == BIG


def test_client_sees_the_original_body() -> None:
    response = fetch(GZipMiddleware(body_app()))
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == BIG  # httpx decodes, as a browser would


@pytest.mark.parametrize(
    "accept_encoding",
    ["gzip", "GZIP", "br, gzip;q=0.5", "deflate, *", "gzip;q=1.0", "x, gzip ;q=1"],
)
def test_accepted_encodings(accept_encoding: str) -> None:
    response = fetch(GZipMiddleware(body_app()), accept_encoding=accept_encoding)
    assert response.headers.get("content-encoding") == "gzip"
    assert response.content == BIG


@pytest.mark.parametrize(
    "accept_encoding",
    [
        "identity",
        "br",
        "gzip;q=0",
        "gzip;q=0.000",
        "*, gzip;q=0",
        "*;q=0",
        "gzip;q=abc",
        "gzip;q=2",
        "gzip;q=-1",
        "gzipx",
        "x-gzip-ish",
        "",
        "gzip\r\nX-Evil: 1",
    ],
)
def test_refused_or_malformed_encodings_are_not_compressed(accept_encoding: str) -> None:
    response = fetch(GZipMiddleware(body_app()), accept_encoding=accept_encoding)
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers
    assert response.content == BIG


def test_no_accept_encoding_header_is_not_compressed() -> None:
    messages = run_raw(GZipMiddleware(body_app()), [])
    assert header(messages[0], b"content-encoding") is None
    assert messages[1]["body"] == BIG


def test_existing_vary_is_extended_and_strong_etag_weakened() -> None:
    app = body_app(headers=[(b"vary", b"Cookie"), (b"etag", b'"abc"')])
    start, _ = run_raw(GZipMiddleware(app), GZIP)
    assert header(start, b"vary") == b"Cookie, Accept-Encoding"
    assert header(start, b"etag") == b'W/"abc"'


def test_weak_etag_stays_weak() -> None:
    start, _ = run_raw(GZipMiddleware(body_app(headers=[(b"etag", b'W/"abc"')])), GZIP)
    assert header(start, b"etag") == b'W/"abc"'


# --- leaving responses alone ----------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 499])
def test_bodies_below_minimum_size_are_untouched(size: int) -> None:
    body = b"x" * size
    start, message = run_raw(GZipMiddleware(body_app(body)), GZIP)
    assert header(start, b"content-encoding") is None
    assert header(start, b"vary") is None
    assert header(start, b"content-length") == str(size).encode()
    assert message["body"] == body


def test_body_of_exactly_minimum_size_is_compressed() -> None:
    start, _ = run_raw(GZipMiddleware(body_app(b"x" * 500)), GZIP)
    assert header(start, b"content-encoding") == b"gzip"


def test_minimum_size_is_configurable() -> None:
    start, _ = run_raw(GZipMiddleware(body_app(b"x" * 20), minimum_size=10), GZIP)
    assert header(start, b"content-encoding") == b"gzip"


@pytest.mark.parametrize("encoding", [b"br", b"gzip", b"identity"])
def test_already_encoded_bodies_are_untouched(encoding: bytes) -> None:
    app = body_app(headers=[(b"content-encoding", encoding)])
    start, message = run_raw(GZipMiddleware(app), GZIP)
    assert header(start, b"content-encoding") == encoding
    assert message["body"] == BIG


def test_event_streams_are_never_compressed() -> None:
    app = streaming_app([b"data: x\n\n" * 100], headers=[(b"content-type", b"text/event-stream")])
    messages = run_raw(GZipMiddleware(app, minimum_size=0), GZIP)
    assert header(messages[0], b"content-encoding") is None
    assert messages[1]["body"] == b"data: x\n\n" * 100


def test_no_transform_is_honoured() -> None:
    app = body_app(headers=[(b"cache-control", b"public, no-transform")])
    start, _ = run_raw(GZipMiddleware(app), GZIP)
    assert header(start, b"content-encoding") is None


@pytest.mark.parametrize("status", [204, 304, 206])
def test_bodyless_and_partial_statuses_are_untouched(status: int) -> None:
    start, message = run_raw(GZipMiddleware(body_app(status=status)), GZIP)
    assert start["status"] == status
    assert header(start, b"content-encoding") is None
    assert message["body"] == BIG


def test_content_range_is_untouched() -> None:
    app = body_app(headers=[(b"content-range", b"bytes 0-4499/9000")])
    start, _ = run_raw(GZipMiddleware(app), GZIP)
    assert header(start, b"content-encoding") is None


def test_head_is_untouched() -> None:
    messages = run_raw(GZipMiddleware(body_app()), GZIP, method="HEAD")
    assert header(messages[0], b"content-encoding") is None
    assert header(messages[0], b"content-length") == str(len(BIG)).encode()


# --- streaming -----------------------------------------------------------------------------


def test_streaming_is_compressed_incrementally() -> None:
    chunks = [b"first chunk " * 50, b"second chunk " * 50, b"third chunk " * 50]
    messages = run_raw(GZipMiddleware(streaming_app(chunks)), GZIP)
    start, *bodies = messages
    assert header(start, b"content-encoding") == b"gzip"
    assert header(start, b"content-length") is None
    assert header(start, b"vary") == b"Accept-Encoding"
    assert [m["more_body"] for m in bodies] == [True, True, True, False]

    # Each chunk decodes on its own as it arrives: nothing waits in the compressor.
    decoder = zlib.decompressobj(31)
    for chunk, message in zip(chunks, bodies, strict=False):
        assert decoder.decompress(message["body"]) == chunk
    assert decoder.decompress(bodies[-1]["body"]) == b""
    assert decoder.eof
    assert gzip.decompress(b"".join(m["body"] for m in bodies)) == b"".join(chunks)


def test_streaming_drops_the_uncompressed_content_length() -> None:
    chunks = [b"a" * 600, b"b" * 600]
    app = streaming_app(chunks, headers=[(b"content-length", b"1200")])
    start, *_ = run_raw(GZipMiddleware(app), GZIP)
    assert header(start, b"content-encoding") == b"gzip"
    assert header(start, b"content-length") is None


def test_streaming_with_small_declared_length_is_untouched() -> None:
    app = streaming_app([b"ab", b"cd"], headers=[(b"content-length", b"4")])
    messages = run_raw(GZipMiddleware(app), GZIP)
    assert header(messages[0], b"content-encoding") is None
    assert b"".join(m["body"] for m in messages[1:]) == b"abcd"


def test_streamed_response_through_a_client() -> None:
    chunks = [b"line %d\n" % i for i in range(500)]
    response = fetch(GZipMiddleware(streaming_app(chunks)))
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == b"".join(chunks)


# --- odd message sequences -----------------------------------------------------------------


def test_unknown_message_releases_the_held_start_unchanged() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": "/tmp/file"})

    messages = run_raw(GZipMiddleware(app), GZIP)
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.pathsend"]
    assert messages[0]["headers"] == []


def test_body_without_start_is_passed_on_for_the_server_to_reject() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.body", "body": BIG})

    messages = run_raw(GZipMiddleware(app), GZIP)
    assert messages == [{"type": "http.response.body", "body": BIG}]


def test_trailers_after_a_compressed_stream_pass_through() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": BIG, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")]})

    messages = run_raw(GZipMiddleware(app), GZIP)
    assert messages[0]["trailers"] is True
    assert messages[-1] == {"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")]}
    assert gzip.decompress(b"".join(m["body"] for m in messages[1:-1])) == BIG


def test_app_error_before_the_body_sends_nothing() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("boom")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    scope: Scope = {"type": "http", "method": "GET", "headers": GZIP}
    with pytest.raises(RuntimeError):
        asyncio.run(GZipMiddleware(app)(scope, receive, send))
    # Nothing reached the server, so an outer error handler can still answer 500.
    assert sent == []


# --- configuration and other scopes --------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs", [{"minimum_size": -1}, {"compresslevel": 0}, {"compresslevel": 10}]
)
def test_bad_configuration_fails_loudly(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        GZipMiddleware(body_app(), **kwargs)


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
def test_other_scopes_pass_straight_through(scope_type: str) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": f"{scope_type}.startup"}

    async def send(message: Message) -> None:
        pass

    scope: Scope = {"type": scope_type, "headers": GZIP}
    asyncio.run(GZipMiddleware(inner)(scope, receive, send))
    assert seen == [(scope, receive, send)]

"""The one way a result becomes a response: `encode_result` turns any handler return value
into status, headers and body (or says the Response sends itself: streams and files), and
`render` sends it, following `render_rules`. Handler plans, exception handlers and the error
policy all go through it.
"""

from __future__ import annotations

from typing import Any, Protocol

from .errors import HTTPError, problem_document
from .responses import Response, json_encoder, send_complete
from .schema_types import Reader, reader_of
from .scope import RESPONSE_STARTED
from .types import Receive, Scope, Send

__all__ = [
    "Encoded",
    "ErrorHandler",
    "encode_result",
    "reader_for",
    "render",
    "render_rules",
    "send_problem",
    "send_response",
]

render_rules = """\
Response          -> sent as it is
str               -> 200 text/plain; charset=utf-8
bytes             -> 200 application/octet-stream
None              -> 204 No Content
anything else     -> 200 application/json (dict, list, msgspec.Struct, dataclass, ...)
"""

Encoded = tuple[int, list[tuple[bytes, bytes]], bytes]

_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_JSON = (b"content-type", b"application/json")
_OCTET = (b"content-type", b"application/octet-stream")
_PROBLEM = (b"content-type", b"application/problem+json")
_PLAIN_SEND = Response.__call__


class ErrorHandler(Protocol):
    async def __call__(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """Turn an exception into a response (the app's exception handling)."""


def encode_result(result: Any, status: int, scope: Scope) -> Encoded | None:
    """Status, headers and body for a return value; None for a Response that sends itself
    (a stream, a file). Raises TypeError for a value JSON cannot hold."""
    kind = type(result)
    if kind is str:
        body = result.encode()
        return status, [_TEXT, (b"content-length", str(len(body)).encode())], body
    if kind is dict or kind is list:
        body = json_encoder.encode(result)
        return status, [_JSON, (b"content-length", str(len(body)).encode())], body
    if isinstance(result, Response):
        if kind.__call__ is not _PLAIN_SEND:
            return None
        return result.status_code, result._final_headers(scope), result.body
    if result is None:
        return 204, [], b""
    if isinstance(result, (bytes, bytearray, memoryview)):
        body = bytes(result)
        return status, [_OCTET, (b"content-length", str(len(body)).encode())], body
    body = json_encoder.encode(result)
    return status, [_JSON, (b"content-length", str(len(body)).encode())], body


async def send_response(
    response: Response, scope: Scope, receive: Receive, send: Send, on_error: ErrorHandler
) -> None:
    """Send a Response that sends itself; an error before it started becomes an error
    response, one after is reported through `on_error` with the response marked as started."""
    started = False

    async def tracking_send(message: Any) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await response(scope, receive, tracking_send)
    except Exception as exc:
        if started:
            scope[RESPONSE_STARTED] = True
        await on_error(exc, scope, receive, send)


def reader_for(result: Any) -> Reader | None:
    """The reader a return value must be encoded through (ORM models: lazy loads), or None;
    cheap for the common plain results."""
    return None if type(result) in _PLAIN_RESULTS else reader_of(result)


_PLAIN_RESULTS = frozenset({str, dict, bytes, type(None), int, float, bool})


async def render(
    result: Any, status: int, scope: Scope, receive: Receive, send: Send, on_error: ErrorHandler
) -> None:
    """Send any return value following `render_rules`."""
    try:
        reader = reader_for(result)
        if reader is None:
            encoded = encode_result(result, status, scope)
        else:
            encoded = await reader(encode_result, result, status, scope)
    except Exception as exc:
        await on_error(exc, scope, receive, send)
        return
    if encoded is None:
        await send_response(result, scope, receive, send, on_error)
        return
    await send_complete(send, *encoded)


async def send_problem(send: Send, error: HTTPError) -> None:
    """Send the problem+json answer for `error` without building a Response: the common 4xx
    answer of an API (invalid input) should cost no more than a successful request."""
    body = json_encoder.encode(problem_document(error))
    headers = [_PROBLEM, (b"content-length", str(len(body)).encode())]
    for key, value in error.headers.items():
        headers.append((key.lower().encode("latin-1"), value.encode("latin-1")))
    await send_complete(send, error.status_code, headers, body)

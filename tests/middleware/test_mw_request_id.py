"""RequestIDMiddleware: reuse of safe ids, replacement of hostile ones, scope and headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from brace.middleware import RequestIDMiddleware
from brace.middleware.request_id import SCOPE_KEY
from brace.testing import TestClient
from brace.types import ASGIApp, Message, Receive, Scope, Send

RunRaw = Callable[[ASGIApp, Scope], list[Message]]  # the `run_raw` fixture (conftest.py)

GENERATED = re.compile(r"[0-9a-f]{32}")


class EchoID:
    """Answers with the id the middleware stored in the scope."""

    def __init__(self, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.headers = headers or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # a test app with no start-up work
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept", "headers": list(self.headers)})
            return
        await send({"type": "http.response.start", "status": 200, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": scope[SCOPE_KEY].encode()})


def fetch(app: ASGIApp, **kwargs: Any) -> httpx.Response:
    with TestClient(app, base_url="http://testserver") as client:
        return client.get("/", **kwargs)


def test_generates_an_id_and_shares_it_with_the_handler() -> None:
    response = fetch(RequestIDMiddleware(EchoID()))
    request_id = response.headers["x-request-id"]
    assert GENERATED.fullmatch(request_id)
    assert response.text == request_id


def test_each_request_gets_its_own_id() -> None:
    app = RequestIDMiddleware(EchoID())
    assert fetch(app).headers["x-request-id"] != fetch(app).headers["x-request-id"]


@pytest.mark.parametrize("incoming", ["abc", "A-b_c.9", "x" * 128, "0f8fad5b-d9cb-469f-a165"])
def test_safe_incoming_id_is_reused(incoming: str) -> None:
    response = fetch(RequestIDMiddleware(EchoID()), headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.text == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "<script>alert(1)</script>",
        "x" * 129,
        "x" * 10_240,
        "abc\r\nSet-Cookie: session=evil",
        "abc\n",
        "abc def",
        "",
        "id;drop",
        '"quoted"',
        "caf\u00e9",
        "../../etc/passwd",
    ],
)
def test_hostile_incoming_id_is_replaced(incoming: str) -> None:
    response = fetch(
        RequestIDMiddleware(EchoID()), headers=[("X-Request-ID", incoming.encode("utf-8"))]
    )
    request_id = response.headers["x-request-id"]
    assert GENERATED.fullmatch(request_id)
    assert response.text == request_id
    assert "set-cookie" not in response.headers


def test_only_the_first_incoming_value_is_considered() -> None:
    headers = [("X-Request-ID", "<bad>"), ("X-Request-ID", "good-id")]
    response = fetch(RequestIDMiddleware(EchoID()), headers=headers)
    assert GENERATED.fullmatch(response.headers["x-request-id"])


def test_untrusted_incoming_ids_are_ignored() -> None:
    app = RequestIDMiddleware(EchoID(), trust_incoming=False)
    response = fetch(app, headers={"X-Request-ID": "client-chosen"})
    assert GENERATED.fullmatch(response.headers["x-request-id"])


def test_custom_header_name() -> None:
    app = RequestIDMiddleware(EchoID(), header_name="X-Correlation-ID")
    response = fetch(app, headers={"X-Correlation-ID": "corr-1", "X-Request-ID": "other"})
    assert response.headers["x-correlation-id"] == "corr-1"
    assert "x-request-id" not in response.headers


def test_header_set_by_the_handler_is_not_duplicated() -> None:
    app = RequestIDMiddleware(EchoID(headers=[(b"X-Request-ID", b"from-handler")]))
    response = fetch(app)
    assert response.headers.get_list("x-request-id") == ["from-handler"]


@pytest.mark.parametrize("name", ["", "X Request", "X-Request-ID\r\n", "X:ID"])
def test_bad_header_name_fails_loudly(name: str) -> None:
    with pytest.raises(ValueError):
        RequestIDMiddleware(EchoID(), header_name=name)


def test_websocket_handshake_carries_the_id(run_raw: RunRaw) -> None:
    scope: Scope = {"type": "websocket", "headers": [(b"x-request-id", b"ws-1")]}
    messages = run_raw(RequestIDMiddleware(EchoID()), scope)
    assert messages == [{"type": "websocket.accept", "headers": [(b"x-request-id", b"ws-1")]}]
    assert scope[SCOPE_KEY] == "ws-1"


def test_lifespan_passes_straight_through(run_raw: RunRaw) -> None:
    seen: list[Scope] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    scope: Scope = {"type": "lifespan"}
    run_raw(RequestIDMiddleware(inner), scope)
    assert seen == [scope]
    assert SCOPE_KEY not in scope


def test_id_is_visible_to_outer_layers_through_the_shared_scope(run_raw: RunRaw) -> None:
    # The core's error handler wraps the stack and reads the key after the call fails.
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    scope: Scope = {"type": "http", "headers": [(b"x-request-id", b"trace-7")]}
    with pytest.raises(RuntimeError):
        run_raw(RequestIDMiddleware(failing), scope)
    assert scope[SCOPE_KEY] == "trace-7"

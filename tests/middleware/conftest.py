"""Shared by the middleware tests: drive an ASGI app by hand and keep what it sent."""

import asyncio
from collections.abc import Callable

import pytest

from brace.types import ASGIApp, Message, Scope

RunRaw = Callable[[ASGIApp, Scope], list[Message]]


def _run_raw(app: ASGIApp, scope: Scope) -> list[Message]:
    """Call `app` once with `scope` (receive answers a WebSocket connect) and return every
    message it sent, for checks httpx would hide (missing Host, WebSocket handshakes)."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return sent


@pytest.fixture
def run_raw() -> RunRaw:
    return _run_raw

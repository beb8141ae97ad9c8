"""Compatibility path: `brace.testing` is `brace.core.testing`."""

from .core.testing import (
    AsyncTestClient,
    TestClient,
    WebSocketClosed,
    WebSocketDenied,
    WebSocketTestSession,
)

__all__ = [
    "AsyncTestClient",
    "TestClient",
    "WebSocketClosed",
    "WebSocketDenied",
    "WebSocketTestSession",
]

"""Compatibility path: `brace.websockets` is `brace.core.websockets`."""

from .core.websockets import (
    DEFAULT_MAX_MESSAGE_SIZE,
    WebSocket,
    WebSocketClose,
    WebSocketDisconnect,
    WebSocketState,
    race,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WebSocket",
    "WebSocketClose",
    "WebSocketDisconnect",
    "WebSocketState",
    "race",
]

"""Compatibility path: `brace.websockets` is `brace.core.websockets` (see docs/architecture.md)."""

from .core.websockets import (
    DEFAULT_MAX_MESSAGE_SIZE as DEFAULT_MAX_MESSAGE_SIZE,
)
from .core.websockets import (
    WebSocket as WebSocket,
)
from .core.websockets import (
    WebSocketClose as WebSocketClose,
)
from .core.websockets import (
    WebSocketDisconnect as WebSocketDisconnect,
)
from .core.websockets import (
    WebSocketState as WebSocketState,
)
from .core.websockets import (
    race as race,
)

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WebSocket",
    "WebSocketClose",
    "WebSocketDisconnect",
    "WebSocketState",
    "race",
]

"""Compatibility path: `brace.testing` is `brace.core.testing` (see docs/architecture.md)."""

from .core.testing import (
    AsyncTestClient as AsyncTestClient,
)
from .core.testing import (
    TestClient as TestClient,
)
from .core.testing import (
    WebSocketClosed as WebSocketClosed,
)
from .core.testing import (
    WebSocketDenied as WebSocketDenied,
)
from .core.testing import (
    WebSocketTestSession as WebSocketTestSession,
)

__all__ = [
    "AsyncTestClient",
    "TestClient",
    "WebSocketClosed",
    "WebSocketDenied",
    "WebSocketTestSession",
]

"""Compatibility path: `brace.types` is `brace.core.types` (see docs/architecture.md)."""

from .core.types import (
    ASGIApp as ASGIApp,
)
from .core.types import (
    Message as Message,
)
from .core.types import (
    Receive as Receive,
)
from .core.types import (
    Scope as Scope,
)
from .core.types import (
    Send as Send,
)

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]

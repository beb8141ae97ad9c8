"""Compatibility path: `brace.requests` is `brace.core.requests` (see docs/architecture.md)."""

from .core.requests import (
    Request as Request,
)
from .core.requests import (
    raw_header as raw_header,
)

__all__ = ["Request", "raw_header"]

"""Compatibility path: `brace.requests` is `brace.core.requests`."""

from .core.requests import Request, raw_header

__all__ = ["Request", "raw_header"]

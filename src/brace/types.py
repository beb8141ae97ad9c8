"""Compatibility path: `brace.types` is `brace.core.types`."""

from .core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]

"""Compatibility path: `brace.params` is `brace.core.params` (see docs/architecture.md)."""

from .core.markers import Body, Cookie, Depends, File, Form, Header, Param, Path, Query

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Param", "Path", "Query"]

"""The parameter engine: one model of a parameter, compiled once for handlers and dependencies.

`markers` holds what users write (`Query()`, `Depends(...)`); `extract` classifies signatures
and builds extractors; `dependencies` resolves `Depends` trees per request.
"""

from ..markers import Body, Cookie, Depends, File, Form, Header, Param, Path, Query

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Param", "Path", "Query"]

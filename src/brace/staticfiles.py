"""Compatibility path: `brace.staticfiles` is `brace.core.staticfiles`."""

from .core.staticfiles import (
    StaticFiles as StaticFiles,
)
from .core.staticfiles import (
    split_path as split_path,
)

__all__ = ["StaticFiles", "split_path"]

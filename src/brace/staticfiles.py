"""Compatibility path: `brace.staticfiles` is `brace.core.staticfiles`."""

from .core.staticfiles import StaticFiles, split_path

__all__ = ["StaticFiles", "split_path"]

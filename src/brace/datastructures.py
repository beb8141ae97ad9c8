"""Compatibility path: `brace.datastructures` is `brace.core.datastructures`."""

from .core.datastructures import (
    URL,
    FormData,
    Headers,
    MutableHeaders,
    QueryParams,
    State,
    UploadFile,
    safe_filename,
)

__all__ = [
    "URL",
    "FormData",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
    "safe_filename",
]

"""Path converters: turn one path segment into a typed value, and a value back into a segment."""

from __future__ import annotations

import math
import re
import uuid
from typing import Any, ClassVar, Final
from urllib.parse import quote

__all__ = ["CONVERTERS", "NO_MATCH", "Converter"]

NO_MATCH: Final = object()
"""Returned by `Converter.convert` when the segment is not of this type (try the next route)."""

# Python refuses to parse ints longer than this (CVE-2020-10735); longer means "not a match".
_MAX_INT_DIGITS = 4300
_FLOAT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class Converter:
    """Base converter: any non-empty segment, as text."""

    name: ClassVar[str] = "str"
    python_type: ClassVar[type] = str
    # Lower tries first when several dynamic routes could take the same segment.
    priority: ClassVar[int] = 50
    # A catch-all converter consumes the rest of the path, slashes included.
    catch_all: ClassVar[bool] = False

    def convert(self, segment: str) -> Any:
        return segment if segment else NO_MATCH

    def to_url(self, value: Any) -> str:
        text = str(value)
        if not text:
            raise ValueError("an empty value cannot fill a path segment")
        return quote(text, safe="")


class IntConverter(Converter):
    name = "int"
    python_type = int
    priority = 10

    def convert(self, segment: str) -> Any:
        if segment.isascii() and segment.isdigit() and len(segment) <= _MAX_INT_DIGITS:
            return int(segment)
        return NO_MATCH

    def to_url(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{value!r} is not a non-negative int")
        return str(value)


class FloatConverter(Converter):
    name = "float"
    python_type = float
    priority = 20

    def convert(self, segment: str) -> Any:
        if len(segment) <= 400 and _FLOAT.fullmatch(segment):
            return float(segment)
        return NO_MATCH

    def to_url(self, value: Any) -> str:
        number = float(value)
        if number < 0 or not math.isfinite(number):
            raise ValueError(f"{value!r} is not a non-negative finite number")
        return repr(number)


class UUIDConverter(Converter):
    name = "uuid"
    python_type = uuid.UUID
    priority = 30

    def convert(self, segment: str) -> Any:
        if len(segment) == 36 and _UUID.fullmatch(segment):
            return uuid.UUID(segment)
        return NO_MATCH

    def to_url(self, value: Any) -> str:
        return str(uuid.UUID(str(value)))


class SlugConverter(Converter):
    name = "slug"
    priority = 40

    def convert(self, segment: str) -> Any:
        return segment if _SLUG.fullmatch(segment) else NO_MATCH

    def to_url(self, value: Any) -> str:
        text = str(value)
        if not _SLUG.fullmatch(text):
            raise ValueError(f"{value!r} is not a slug")
        return text


class PathConverter(Converter):
    """The rest of the path, slashes included (only allowed as the last segment)."""

    name = "path"
    priority = 90
    catch_all = True

    def convert(self, segment: str) -> Any:
        return segment

    def to_url(self, value: Any) -> str:
        # Slashes stay separators, but the value can never make the URL protocol-relative
        # ("//evil.example/x": an open redirect) nor climb with dot segments.
        parts = [
            part.replace(".", "%2E") if part in (".", "..") else quote(part, safe="")
            for part in str(value).split("/")
        ]
        path = "/".join(parts)
        return "%2F" + path[1:] if path.startswith("/") else path


CONVERTERS: dict[str, Converter] = {
    c.name: c
    for c in (
        Converter(),
        IntConverter(),
        FloatConverter(),
        UUIDConverter(),
        SlugConverter(),
        PathConverter(),
    )
}

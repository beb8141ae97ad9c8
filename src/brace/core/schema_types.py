"""Classes that describe their wire shape with another type (`__brace_schema__`).

A class whose instances are not serializable as they are (an ORM model, say) defines a
classmethod `__brace_schema__()` returning the msgspec Struct (or dataclass...) to serialize
them through. brace then uses that type wherever the class appears: in a declared response type
(`-> list[Item]`), in the OpenAPI document, and when such an object is returned undeclared.

Reading such an object may need I/O the event loop cannot do synchronously (an ORM's lazy
load). Its class can then define `__brace_read__`, an async callable `(fn, *args)` that runs the
synchronous `fn(*args)` where those reads work; brace converts and encodes the object through it.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

__all__ = ["Reader", "has_schema", "reader_of", "schema_of", "wire_type"]

Reader = Callable[..., Awaitable[Any]]
"""`await reader(fn, *args)`: `fn(*args)` run where the object's attribute reads may do I/O."""


def schema_of(cls: Any) -> Any | None:
    """The wire type a class declares for itself, if any."""
    hook = getattr(cls, "__brace_schema__", None) if isinstance(cls, type) else None
    return hook() if hook is not None else None


def reader_of(value: Any) -> Reader | None:
    """The reader a returned value's class asks for (a list's: its first item's), or None."""
    kind = type(value)
    if kind is list or kind is tuple:
        if not value:
            return None
        kind = type(value[0])
    try:
        return _readers[kind]
    except KeyError:  # first time this class is returned: look it up once
        found: Reader | None = getattr(kind, "__brace_read__", None)
        _readers[kind] = found
        return found


_readers: dict[type, Reader | None] = {}


def has_schema(annotation: Any) -> bool:
    """Whether a type mentions a class with `__brace_schema__` anywhere."""
    if isinstance(annotation, type):
        return hasattr(annotation, "__brace_schema__")
    return any(has_schema(arg) for arg in typing.get_args(annotation))


def wire_type(annotation: Any) -> Any:
    """`annotation` with every class that declares a schema replaced by that schema
    (`list[Item] | None` -> `list[ItemSchema] | None`)."""
    try:
        return _cached_wire_type(annotation)
    except TypeError:  # unhashable annotation
        return _wire_type(annotation)


@functools.cache
def _cached_wire_type(annotation: Any) -> Any:
    return _wire_type(annotation)


def _wire_type(annotation: Any) -> Any:
    schema = schema_of(annotation)
    if schema is not None:
        return schema
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is None or not args or not has_schema(annotation):
        return annotation
    if origin is Annotated:
        return Annotated[(wire_type(args[0]), *args[1:])]
    replaced = tuple(wire_type(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(lambda a, b: a | b, replaced)
    if isinstance(annotation, types.GenericAlias):
        return types.GenericAlias(origin, replaced)
    return annotation.copy_with(replaced)

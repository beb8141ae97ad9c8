"""The declarative base for brace models: an integer primary key by default, table names from
class names, constraint names that migrations can rely on, and a wire type derived from the
mapped columns so that handlers can return model instances."""

from __future__ import annotations

import re
import typing
import uuid
from datetime import datetime
from typing import Any, ClassVar

import msgspec
from sqlalchemy import MetaData, Uuid, func, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.util import greenlet_spawn

from ._types import UTCDateTime, utcnow

__all__ = ["Model", "Timestamps", "UUIDPrimaryKey"]

# Named constraints: Alembic can then drop or alter them by name, SQLite batch mode included.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def table_name_for(class_name: str) -> str:
    """`BlogPost` -> `blog_post`, `HTTPLog` -> `http_log`."""
    return _CAMEL.sub("_", class_name).lower()


class Model(DeclarativeBase):
    """Base class of brace models: `class Item(Model): name: Mapped[str]`.

    Each model gets `id: Mapped[int]` as its primary key (declare `id` yourself, or mix in
    `UUIDPrimaryKey`, to change it) and a table named after the class in snake_case. Columns
    are serialized when a handler returns the model, except those named in
    `__brace_hidden__` (a password hash); relationships only through a response type that
    declares them.
    """

    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    __brace_schema_cache__: ClassVar[dict[type, Any]] = {}

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return table_name_for(cls.__name__)

    @declared_attr
    def id(cls) -> Mapped[int]:
        return mapped_column(primary_key=True)

    @classmethod
    def __brace_schema__(cls) -> Any:
        """The msgspec Struct a returned instance is serialized through (and documented as)."""
        cache = Model.__brace_schema_cache__
        schema = cache.get(cls)
        if schema is None:
            schema = cache[cls] = _derive_schema(cls)
        return schema

    @staticmethod
    async def __brace_read__(fn: Any, *args: Any) -> Any:
        """Run `fn(*args)` where reading an attribute may load it from the database: brace
        serializes returned models and renders templates through this, so an expired column
        or a lazy relationship is an awaited query rather than `MissingGreenlet`."""
        return await greenlet_spawn(fn, *args)

    def __repr__(self) -> str:
        state = inspect(self)
        key = state.identity[0] if state.identity else None
        return f"<{type(self).__name__} id={key!r}>"


class UUIDPrimaryKey:
    """Mix in before `Model` for a random UUID primary key: `class Token(UUIDPrimaryKey, Model)`."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Timestamps:
    """Mix in for `created_at` and `updated_at`: timezone-aware UTC with microseconds on every
    database. brace sets them (so an updated model can be returned at once, nothing left to
    reload); the database default covers rows inserted by hand."""

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def _python_type(column: Any) -> Any:
    try:
        python_type: Any = column.type.python_type
    except NotImplementedError:
        return Any
    if python_type is dict or python_type is list:
        return Any  # JSON columns hold any JSON value
    return python_type


def _derive_schema(cls: type) -> Any:
    mapper: Any = inspect(cls)
    hints: dict[str, Any] = {}
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable annotations: fall back to the column types
        hints = {}
    fields: list[tuple[str, Any]] = []
    hidden = set(getattr(cls, "__brace_hidden__", ()))
    # The primary key first, then columns in declaration order.
    attrs = sorted(mapper.column_attrs, key=lambda a: not a.columns[0].primary_key)
    for attr in attrs:
        if attr.key in hidden:
            continue
        column = attr.columns[0]
        python_type = _python_type(column)
        hinted = hints.get(attr.key)
        if typing.get_origin(hinted) is Mapped:
            (inner,) = typing.get_args(hinted)
            python_type = inner  # `Mapped[Status | None]` says more than the column type
        elif column.nullable and python_type is not Any:
            python_type = python_type | None
        fields.append((attr.key, python_type))
    return msgspec.defstruct(cls.__name__, fields, module=cls.__module__)

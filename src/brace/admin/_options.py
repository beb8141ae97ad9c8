"""How one model appears in the admin: its columns, search, filters, ordering and form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect

from ._fields import Field, fields_for

__all__ = ["ModelAdmin"]


LABEL_COLUMN = "__str__"
"""In `list_display`: the row's label (the model's `__str__`), as in Django."""


class ModelAdmin:
    """Options for one model; subclass it, or pass the options to `admin.register(...)`.
    Everything left out gets a sensible default from the model's columns."""

    list_display: Sequence[str] = ()
    search_fields: Sequence[str] = ()
    list_filter: Sequence[str] = ()
    ordering: Sequence[str] = ()
    readonly_fields: Sequence[str] = ()
    superuser_fields: Sequence[str] = ()
    """Columns only superusers may change (others see them read-only). Default, on models
    with such columns: `is_superuser`, `is_staff` and `permissions`, so that a staff user
    allowed to change users cannot grant themselves more."""
    form_fields: Sequence[str] = ()
    per_page: int = 50

    def __init__(self, model: type[Any], **options: Any) -> None:
        unknown = set(options) - {
            "list_display",
            "search_fields",
            "list_filter",
            "ordering",
            "readonly_fields",
            "superuser_fields",
            "form_fields",
            "per_page",
        }
        if unknown:
            raise TypeError(f"unknown ModelAdmin options: {sorted(unknown)}")
        self.model = model
        mapper: Any = inspect(model)
        self.table = model.__table__
        self.slug: str = self.table.name
        self.name: str = model.__name__
        self.pk = mapper.primary_key[0].name
        hidden = set(getattr(model, "__brace_hidden__", ()))
        columns = [c.key for c in mapper.column_attrs if c.key not in hidden]
        columns.sort(key=lambda name: name != self.pk)  # the key first, then declaration order
        self.columns = columns

        def pick(key: str, default: Sequence[str]) -> list[str]:
            chosen = list(options.get(key) or getattr(type(self), key) or default)
            for name in chosen:
                if name not in columns and not (key == "list_display" and name == LABEL_COLUMN):
                    raise ValueError(f"{self.name} admin: {key} names unknown column {name!r}")
            return chosen

        strings = [c for c in columns if _is_text(mapper.columns[c]) and c != self.pk]
        self.list_display = pick("list_display", columns[:6])
        self.search_fields = pick("search_fields", strings[:3])
        self.list_filter = pick("list_filter", [])
        ordering = list(options.get("ordering") or type(self).ordering or [f"-{self.pk}"])
        for name in ordering:
            if name.lstrip("-") not in columns:
                raise ValueError(f"{self.name} admin: ordering names unknown column {name!r}")
        self.ordering = ordering
        self.readonly_fields = pick("readonly_fields", [])
        self.superuser_fields = pick("superuser_fields", [c for c in _PRIVILEGES if c in columns])
        generated = {
            c.name
            for c in self.table.columns
            if (c.primary_key and c.autoincrement in (True, "auto") and _is_int(c))
            or (c.server_default is not None and c.name in ("created_at", "updated_at"))
        }
        editable = [c for c in columns if c not in generated and c not in self.readonly_fields]
        self.form_fields = pick("form_fields", editable)
        self.per_page = int(options.get("per_page") or type(self).per_page)
        self.fields: list[Field] = fields_for(model, self.form_fields)
        self.filters: list[Field] = fields_for(model, self.list_filter)

    def editable_by(self, user: Any) -> list[Field]:
        """The form fields `user` may change: superusers all, others not the privileges."""
        if user is not None and getattr(user, "is_superuser", False):
            return self.fields
        return [f for f in self.fields if f.name not in self.superuser_fields]

    def permission(self, action: str) -> str:
        """The permission string for `action` (view, add, change, delete) on this model."""
        return f"{self.slug}.{action}"


_PRIVILEGES = ("is_superuser", "is_staff", "permissions")


def _is_text(column: Any) -> bool:
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return False


def _is_int(column: Any) -> bool:
    try:
        return column.type.python_type is int
    except NotImplementedError:
        return False

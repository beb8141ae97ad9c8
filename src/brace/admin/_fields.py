"""Form fields derived from mapped columns: what input to show, and how to read it back.

Each column becomes a `Field` with an HTML input kind and a parser that turns the submitted
text into the column's Python value or raises `FieldError` with a message for people.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, Enum, Text
from sqlalchemy.types import TypeEngine

__all__ = ["KEEP", "Field", "FieldError", "fields_for"]

KEEP: Any = object()
"""What an empty input means for a column that must hold a value and has a default (a
`date_joined`): leave the value as it is, or let the default fill it on add."""


class FieldError(ValueError):
    """A submitted value does not fit its column; the message is for the person."""


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: str  # text, textarea, number, decimal, checkbox, date, datetime, time, select, json, uuid
    required: bool
    nullable: bool
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None
    foreign_key: str | None = None  # "table.column" for foreign keys
    python_type: Any = str

    def display(self, value: Any) -> str:
        """The value as the input shows it."""
        if value is None:
            return ""
        if isinstance(value, enum.Enum):
            return str(value.value)
        if self.kind == "json":
            return json.dumps(value, indent=2, ensure_ascii=False)
        if isinstance(value, datetime):
            return value.replace(tzinfo=None).isoformat(timespec="minutes")
        if isinstance(value, (date, time)):
            return value.isoformat()
        return str(value)

    def parse(self, raw: str | None) -> Any:
        """The column value for a submitted string (None/"" is "empty")."""
        if self.kind == "checkbox":
            return raw is not None and raw.lower() in ("on", "true", "1", "yes")
        text = (raw or "").strip() if self.kind not in ("textarea", "json") else (raw or "")
        if text.strip() == "":
            if self.required:
                raise FieldError("This field is required.")
            if self.nullable:
                return None
            return "" if self.kind in ("text", "textarea") else KEEP
        if self.max_length is not None and len(text) > self.max_length:
            raise FieldError(f"Enter at most {self.max_length} characters.")
        try:
            return self._convert(text)
        except FieldError:
            raise
        except (ValueError, TypeError, InvalidOperation, OverflowError):
            raise FieldError(_MESSAGES.get(self.kind, "Enter a valid value.")) from None

    def _convert(self, text: str) -> Any:
        """The Python value of non-empty `text`, by the converter for this field's kind."""
        return _CONVERTERS.get(self.kind, _to_text)(self, text)


def _to_int(field: Field, text: str) -> int:
    """A whole number that fits the database's 64-bit integer columns."""
    value = int(text)
    if abs(value) > 2**63 - 1:
        raise FieldError("Enter a smaller number.")
    return value


def _to_decimal(field: Field, text: str) -> Decimal | float:
    """A finite number, as a float for float columns (a Decimal otherwise)."""
    number = Decimal(text)
    if not number.is_finite():
        raise FieldError("Enter a number.")
    return float(number) if field.python_type is float else number


def _to_date(field: Field, text: str) -> date:
    """An ISO date (YYYY-MM-DD), as the date input submits it."""
    return date.fromisoformat(text)


def _to_datetime(field: Field, text: str) -> datetime:
    """An ISO date and time, as the datetime-local input submits it."""
    return datetime.fromisoformat(text)


def _to_time(field: Field, text: str) -> time:
    """An ISO time (HH:MM), as the time input submits it."""
    return time.fromisoformat(text)


def _to_uuid(field: Field, text: str) -> uuid.UUID:
    """A UUID in any of the spellings `uuid.UUID` accepts."""
    return uuid.UUID(text)


def _to_json(field: Field, text: str) -> Any:
    """Parsed JSON, with the parser's complaint and line in the message when it is invalid."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FieldError(f"Enter valid JSON ({exc.msg}, line {exc.lineno}).") from None


def _to_choice(field: Field, text: str) -> Any:
    """One of the field's choices, as its enum member when the column holds an enum."""
    allowed = {value for value, _ in field.choices}
    if text not in allowed:
        raise FieldError("Select a valid choice.")
    if isinstance(field.python_type, type) and issubclass(field.python_type, enum.Enum):
        return field.python_type(text)
    return text


def _to_text(field: Field, text: str) -> str:
    """The text itself, refused if it holds a NUL (PostgreSQL cannot store one)."""
    if "\x00" in text:
        raise FieldError("Remove the NUL character.")
    return text


_CONVERTERS: dict[str, Callable[[Field, str], Any]] = {
    "number": _to_int,
    "decimal": _to_decimal,
    "date": _to_date,
    "datetime": _to_datetime,
    "time": _to_time,
    "uuid": _to_uuid,
    "json": _to_json,
    "select": _to_choice,
}

_TEXT_KINDS = ("text", "textarea")
_MESSAGES = {
    "number": "Enter a whole number.",
    "decimal": "Enter a number.",
    "date": "Enter a valid date (YYYY-MM-DD).",
    "datetime": "Enter a valid date and time.",
    "time": "Enter a valid time (HH:MM).",
    "uuid": "Enter a valid UUID.",
}


def _python_type(column_type: TypeEngine[Any]) -> Any:
    try:
        return column_type.python_type
    except NotImplementedError:
        return str


def _kind(column: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    column_type = column.type
    if isinstance(column_type, Enum):
        enum_class = column_type.enum_class
        if enum_class is not None:
            choices = tuple((str(m.value), m.name.replace("_", " ")) for m in enum_class)
        else:
            choices = tuple((str(v), str(v)) for v in column_type.enums)
        return "select", choices
    if isinstance(column_type, JSON):
        return "json", ()
    python_type = _python_type(column_type)
    if python_type is bool:
        return "checkbox", ()
    if python_type is int:
        return "number", ()
    if python_type in (float, Decimal):
        return "decimal", ()
    if python_type is datetime:
        return "datetime", ()
    if python_type is date:
        return "date", ()
    if python_type is time:
        return "time", ()
    if python_type is uuid.UUID:
        return "uuid", ()
    if isinstance(column_type, Text) or (getattr(column_type, "length", None) or 0) > 255:
        return "textarea", ()
    return "text", ()


def fields_for(model: Any, names: list[str]) -> list[Field]:
    """A Field for each named column of `model`."""
    from sqlalchemy import inspect

    mapper: Any = inspect(model)
    out: list[Field] = []
    for name in names:
        column = mapper.columns[name]
        kind, choices = _kind(column)
        has_default = column.default is not None or column.server_default is not None
        foreign = next(iter(column.foreign_keys), None)
        out.append(
            Field(
                name=name,
                label=name.replace("_", " ").capitalize(),
                kind=kind,
                required=not column.nullable and not has_default and kind != "checkbox",
                nullable=bool(column.nullable),
                choices=choices,
                max_length=getattr(column.type, "length", None) if kind in _TEXT_KINDS else None,
                foreign_key=foreign.target_fullname if foreign is not None else None,
                python_type=_python_type(column.type),
            )
        )
    return out

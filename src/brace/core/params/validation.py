"""Validation errors as problem+json items: where (`body.items[2].price`), what, and the
input's kind; and the error-path walk that lists every problem of a rejected body."""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ..errors import HTTPError
from .model import has_model, object_fields, split_annotated, unwrap_optional

# -- validation errors -------------------------------------------------------------------------


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_TOKEN = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _value_at(document: Any, path: str) -> Any:
    current = document
    for name, index in _TOKEN.findall(path):
        if name:
            if not isinstance(current, dict) or name not in current:
                return MISSING
            current = current[name]
        else:
            position = int(index)
            if not isinstance(current, list) or position >= len(current):
                return MISSING
            current = current[position]
    return current


MISSING: Any = object()


def error_item(location: str, exc: msgspec.ValidationError, raw: Any = MISSING) -> dict[str, Any]:
    """One problem+json error: where (`body.items[2].price`), what, and the input's kind."""
    return _error_from(location, str(exc), raw, " - at `$")


def _error_from(location: str, message: str, raw: Any, marker: str) -> dict[str, Any]:
    """The error for msgspec's `message` about `raw`, whose path follows `marker` at the end
    ("Expected `int`, got `str` - at `$.items[2].price`")."""
    head, found, path = message.rpartition(marker)
    if found and path.endswith("`"):
        message, path = head, path[:-1]
    else:
        path = ""
    item: dict[str, Any] = {"loc": location + path, "msg": message}
    got = _got(message)
    if got is not None:
        item["input"] = got
    elif raw is not MISSING:
        value = _value_at(raw, path) if path else raw
        if value is not MISSING:
            item["input"] = json_kind(value)
    return item


def _got(message: str) -> str | None:
    """The input kind msgspec names in "Expected `int`, got `str`", if it does."""
    _, marker, rest = message.partition("got `")
    if not marker:
        return None
    kind, closing, _ = rest.partition("`")
    return kind if closing and kind.isidentifier() else None


_MAX_DEPTH = 64
Walker = Callable[[Any, str, list[dict[str, Any]], int], None]


def body_errors(
    value: Any,
    annotation: Any,
    location: str,
    out: list[dict[str, Any]],
    first: dict[str, Any] | None = None,
) -> None:
    """Every validation error in a decoded JSON document, with its location (error path only:
    it runs after msgspec rejected the body, to list all problems instead of the first).
    `first`: the error msgspec already reported, reused rather than found again."""
    if first is None:
        _walker(annotation)(value, location, out, 0)
        return
    found = _KnownErrors()
    found.first = first
    _walker(annotation)(value, location, found, 0)
    out.extend(found)


class _KnownErrors(list[dict[str, Any]]):
    """An error list that already knows one error: the leaf at its location takes it as it is
    instead of asking msgspec again (the costliest step of listing a body's errors)."""

    first: dict[str, Any]


def _walker(annotation: Any) -> Walker:
    """A checker for one type, built once per type: the error path stays cheap."""
    try:
        return _cached_walker(annotation)
    except TypeError:  # an unhashable annotation: build it each time rather than fail
        return _build_walker(annotation)


@functools.cache
def _cached_walker(annotation: Any) -> Walker:
    return _build_walker(annotation)


# JSON values that certainly validate as these types (anything else is checked by msgspec).
_PLAIN_JSON: dict[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (float, int),
    bool: (bool,),
    Any: (str, int, float, bool, list, dict, type(None)),
}


def _build_walker(annotation: Any) -> Walker:
    base, extras = split_annotated(annotation)
    inner, optional = unwrap_optional(base)
    leaf = _leaf_walker(annotation)
    if extras:
        return leaf
    accepts = _PLAIN_JSON.get(inner)
    if accepts is not None:
        # Most fields of a rejected body are fine: a type check clears them without msgspec.
        def plain(value: Any, location: str, out: list[dict[str, Any]], depth: int) -> None:
            if type(value) not in accepts and not (value is None and optional):
                leaf(value, location, out, depth)

        return plain
    if isinstance(inner, type) and (
        issubclass(inner, msgspec.Struct)
        or dataclasses.is_dataclass(inner)
        or typing.is_typeddict(inner)
    ):
        return _model_walker(inner, optional, leaf)
    if typing.get_origin(inner) is list and has_model(inner):
        return _list_walker(inner, optional, leaf)
    return leaf


def _leaf_walker(annotation: Any) -> Walker:
    """Checks a value in one msgspec call (what the other walkers fall back to)."""
    # A one-field Struct around the type: msgspec caches a Struct's validation plan, while a
    # bare annotation (`Annotated[float, Meta(gt=0)]`) would be re-analysed on every call.
    holder = msgspec.defstruct("Leaf", [("v", annotation)])

    def leaf(value: Any, location: str, out: list[dict[str, Any]], depth: int) -> None:
        if type(out) is _KnownErrors and out.first["loc"] == location:
            out.append(out.first)
            return
        try:
            msgspec.convert({"v": value}, holder, strict=False)
        except msgspec.ValidationError as exc:
            # The holder's field is `v`: its path is the value's own.
            out.append(_error_from(location, str(exc), value, " - at `$.v"))

    return leaf


def _list_walker(inner: Any, optional: bool, leaf: Walker) -> Walker:
    """Only lists of models are walked item by item; msgspec already names the index of a
    bad scalar item (`tags[3]`), so those lists are checked in one call."""
    (item_type,) = typing.get_args(inner) or (Any,)

    def items(value: Any, location: str, out: list[dict[str, Any]], depth: int) -> None:
        if value is None and optional:
            return
        if not isinstance(value, list) or depth >= _MAX_DEPTH:
            leaf(value, location, out, depth)
            return
        check = _walker(item_type)
        for index, item in enumerate(value):
            check(item, f"{location}[{index}]", out, depth + 1)

    return items


FieldPlan = list[tuple[str, bool, tuple[type, ...], tuple[type, ...], Walker]]


def _model_walker(cls: type, optional: bool, leaf: Walker) -> Walker:
    # (key, required, plainly valid JSON types, plainly valid item types of a list, walker),
    # made on the first call: a model may refer to itself, so its fields' walkers cannot all
    # be built up front.
    plan: FieldPlan = []
    known: set[str] = set()
    forbid_unknown = False

    def model(value: Any, location: str, out: list[dict[str, Any]], depth: int) -> None:
        nonlocal forbid_unknown
        if value is None and optional:
            return
        if type(value) is not dict or depth >= _MAX_DEPTH:
            leaf(value, location, out, depth)
            return
        if not plan:
            fields, forbid_unknown = object_fields(cls)
            for key, required, field_type in fields:
                accepts, item_accepts = _plain_types(field_type)
                plan.append((key, required, accepts, item_accepts, _walker(field_type)))
                known.add(key)
        _check_fields(plan, value, location, out, depth)
        if forbid_unknown:
            _check_unknown(known, value, location, out)

    return model


def _check_fields(
    plan: FieldPlan, value: dict[str, Any], location: str, out: list[dict[str, Any]], depth: int
) -> None:
    for key, required, accepts, item_accepts, check in plan:
        try:
            item = value[key]
        except KeyError:
            if required:
                out.append(missing_item(f"{location}.{key}"))
            continue
        # The usual case for most fields of a rejected body: plainly valid, no msgspec.
        kind = type(item)
        if kind in accepts:
            continue
        if kind is list and item_accepts and all(type(x) in item_accepts for x in item):
            continue
        check(item, f"{location}.{key}", out, depth + 1)


def _check_unknown(
    known: set[str], value: dict[str, Any], location: str, out: list[dict[str, Any]]
) -> None:
    for key in value:
        if key not in known:
            out.append(
                {
                    "loc": f"{location}.{key}",
                    "msg": f"Object contains unknown field `{key}`",
                    "input": json_kind(value[key]),
                }
            )


def _plain_types(annotation: Any) -> tuple[tuple[type, ...], tuple[type, ...]]:
    """The JSON types that certainly validate as `annotation` (a bare scalar type, say
    `float`), and those of the items of a list that does (`list[str]`); empty when none."""
    inner, optional = unwrap_optional(annotation)
    none: tuple[type, ...] = (type(None),) if optional else ()
    if typing.get_origin(inner) is list:
        (item_type,) = typing.get_args(inner) or (Any,)
        items = _lookup_plain(item_type)
        return none, items
    accepts = _lookup_plain(inner)
    return (accepts + none if accepts else ()), ()


def _lookup_plain(annotation: Any) -> tuple[type, ...]:
    if typing.get_origin(annotation) is not None:  # Annotated constraints, unions...
        return ()
    try:
        return _PLAIN_JSON.get(annotation, ())
    except TypeError:  # unhashable
        return ()


@functools.cache
def missing_item(location: str) -> dict[str, Any]:
    return {"loc": location, "msg": "Field required", "input": "missing"}


def validation_error(errors: list[dict[str, Any]]) -> HTTPError:
    return HTTPError(
        422,
        "The request is not valid: see `errors`.",
        title="Unprocessable Content",
        extra={"errors": errors},
    )


def raw_json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return MISSING

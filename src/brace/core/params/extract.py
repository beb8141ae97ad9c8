"""Turn a handler's signature into extractors, once, at start-up.

Each parameter gets a `ParamSpec` (where it comes from, its wire name, the type that validates
it) and a small extractor function. Requests then run a flat loop over prepared functions:
no signature inspection and no type-hint resolution on the hot path.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import sys
import types
import typing
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import msgspec

from ...forms import FormResult
from ..background import BackgroundTasks, background_tasks
from ..datastructures import UploadFile, parse_query
from ..errors import HTTPError
from ..requests import Request, raw_header
from ..responses import Response
from ..routing import PathParam, Route
from ..types import Receive, Scope
from .markers import Body, Depends, Param

__all__ = [
    "AsyncBuilder",
    "HandlerError",
    "ParamSpec",
    "SyncBuilder",
    "compile_params",
    "validation_error",
]

EMPTY: Any = inspect.Parameter.empty
_SCALAR_TYPES: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    uuid.UUID,
    datetime,
    date,
    time,
    timedelta,
    Decimal,
    bytes,
)
_SEQUENCES = (list, tuple, set, frozenset, Sequence)

SyncBuilder = Callable[[Scope, Receive, Sequence[Any]], dict[str, Any]]
AsyncBuilder = Callable[[Scope, Receive, Sequence[Any]], Awaitable[dict[str, Any]]]


class HandlerError(TypeError):
    """A handler's signature cannot be served; raised at start-up naming handler and parameter."""


@dataclasses.dataclass(frozen=True, slots=True)
class ParamSpec:
    """What brace knows about one handler parameter (also the source for OpenAPI)."""

    name: str
    source: str  # "path" | "query" | "header" | "cookie" | "body" | "request" | "response"
    key: str  # the name on the wire: path segment, query key, header or cookie name
    annotation: Any  # the type values are validated against, constraints included
    default: Any = EMPTY
    marker: Param | None = None
    many: bool = False  # a list read from repeated query keys or headers
    dependency: Depends | None = None
    result: bool = False  # a FormResult[...]: validation errors go to the handler

    @property
    def required(self) -> bool:
        return self.default is EMPTY

    @property
    def location(self) -> str:
        if self.source == "body" or (self.source == "form" and is_form_model(self.annotation)):
            return self.source
        return f"{self.source}.{self.key}"


# -- type classification (start-up only) ------------------------------------------------------


def _split_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        return base, extras
    return annotation, []


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return rest[0], True
    return annotation, False


def is_scalar(annotation: Any) -> bool:
    """Types that a single string (a path segment, a query value, a header) can carry."""
    inner, _ = _unwrap_optional(_split_annotated(annotation)[0])
    inner = _split_annotated(inner)[0]
    if inner in _SCALAR_TYPES or inner is Any:
        return True
    if isinstance(inner, type) and issubclass(inner, Enum):
        return True
    if typing.get_origin(inner) is typing.Literal:
        return True
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        return all(is_scalar(a) for a in typing.get_args(inner) if a is not type(None))
    return False


def is_scalar_sequence(annotation: Any) -> bool:
    inner, _ = _unwrap_optional(_split_annotated(annotation)[0])
    inner = _split_annotated(inner)[0]
    if typing.get_origin(inner) in _SEQUENCES or inner in (list, tuple, set, frozenset):
        args = [a for a in typing.get_args(inner) if a is not Ellipsis]
        return all(is_scalar(a) for a in args)
    return False


def _is_pydantic_model(annotation: Any) -> bool:
    # No class can subclass BaseModel unless pydantic is already imported: look it up rather
    # than importing it, which would cost every app ~5 MiB whether it uses pydantic or not.
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return False
    return isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)


def _bare(annotation: Any) -> Any:
    inner, _ = _unwrap_optional(_split_annotated(annotation)[0])
    return _split_annotated(inner)[0]


def is_upload(annotation: Any) -> bool:
    """`UploadFile`, `UploadFile | None` or a list of them."""
    inner = _bare(annotation)
    if typing.get_origin(inner) in (list, *_SEQUENCES):
        args = typing.get_args(inner)
        return bool(args) and _bare(args[0]) is UploadFile
    return inner is UploadFile


def is_form_model(annotation: Any) -> bool:
    """A model whose fields are a form's fields."""
    inner = _bare(annotation)
    return isinstance(inner, type) and (
        issubclass(inner, msgspec.Struct)
        or dataclasses.is_dataclass(inner)
        or typing.is_typeddict(inner)
        or _is_pydantic_model(inner)
    )


def is_body_type(annotation: Any) -> bool:
    """Structured types that only a request body can carry."""
    inner, _ = _unwrap_optional(_split_annotated(annotation)[0])
    inner = _split_annotated(inner)[0]
    if isinstance(inner, type):
        if issubclass(inner, msgspec.Struct) or dataclasses.is_dataclass(inner):
            return True
        if typing.is_typeddict(inner) or _is_pydantic_model(inner):
            return True
        if inner in (dict, list):
            return True
    origin = typing.get_origin(inner)
    if origin in (dict, list, tuple, set, frozenset) or origin in _SEQUENCES:
        return True
    return False


# -- compilation -------------------------------------------------------------------------------


def _qualname(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _constrained(annotation: Any, marker: Param | None, extras: list[Any], where: str) -> Any:
    """The type to validate with: the annotation plus the marker's constraints."""
    meta = marker.meta() if marker is not None else None
    inner, optional = _unwrap_optional(annotation)
    metadata = [m for m in extras if not isinstance(m, Param)]
    if meta is not None:
        metadata.append(meta)
    if not metadata:
        return annotation
    typ: Any = Annotated[(inner, *metadata)]
    try:
        msgspec.inspect.type_info(typ)
    except TypeError as exc:
        raise HandlerError(f"{where}: {exc}") from None
    return typ | None if optional else typ


def inspect_callable(
    fn: Callable[..., Any], where: str, path_params: dict[str, PathParam], path: str = ""
) -> list[ParamSpec]:
    """Classify every parameter of a handler or dependency (start-up only)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise HandlerError(f"{where}: cannot read its signature ({exc})") from None
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise HandlerError(f"{where}: cannot resolve its type hints ({exc})") from exc
    specs: list[ParamSpec] = []
    for param in signature.parameters.values():
        at = f"{where}, parameter {param.name!r}"
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise HandlerError(f"{at}: *args/**kwargs parameters are not supported")
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise HandlerError(f"{at}: must not be positional-only")
        annotation = hints.get(param.name, EMPTY)
        base, extras = _split_annotated(annotation)
        markers = [m for m in extras if isinstance(m, (Param, Depends))]
        if len(markers) > 1:
            raise HandlerError(f"{at}: more than one source marker ({markers})")
        default = param.default
        if isinstance(default, (Param, Depends)):
            raise HandlerError(f"{at}: put markers in Annotated[...], not in the default value")
        first = markers[0] if markers else None
        if isinstance(first, Depends):
            specs.append(ParamSpec(param.name, "depends", param.name, base, dependency=first))
            continue
        marker: Param | None = first
        if typing.get_origin(base) is FormResult:
            (model,) = typing.get_args(base) or (Any,)
            if not is_form_model(model):
                raise HandlerError(f"{at}: FormResult[...] needs a model, not {model!r}")
            specs.append(ParamSpec(param.name, "form", param.name, model, result=True))
            continue
        if isinstance(base, type) and issubclass(base, BackgroundTasks):
            # Tasks run after the response: a generator dependency does exactly that.
            later = Depends(background_tasks)
            specs.append(ParamSpec(param.name, "depends", param.name, base, dependency=later))
            continue
        if isinstance(base, type) and issubclass(base, Request):
            specs.append(ParamSpec(param.name, "request", param.name, base))
            continue
        if isinstance(base, type) and issubclass(base, Response):
            # Headers, cookies and a status for a handler that returns plain data.
            specs.append(ParamSpec(param.name, "response", param.name, base))
            continue
        if marker is not None:
            source = marker.source
        elif param.name in path_params:
            source = "path"
        elif is_upload(base):
            source = "form"
        elif annotation is EMPTY:
            raise HandlerError(
                f"{at}: no type annotation and not a path parameter; annotate it "
                f"(`{param.name}: str` for a query parameter, `request: Request`, or a model "
                "for a JSON body)"
            )
        elif is_scalar(base) or is_scalar_sequence(base):
            source = "query"
        elif is_body_type(base):
            source = "body"
        else:
            raise HandlerError(
                f"{at}: cannot tell where {base!r} comes from; use Annotated[..., Query()] / "
                "Header() / Cookie() / Body(), or a msgspec Struct, dataclass, TypedDict or "
                "pydantic model for a JSON body"
            )
        key = (marker.alias if marker is not None else None) or param.name
        if source == "path":
            if key not in path_params:
                raise HandlerError(f"{at}: {path!r} has no path parameter {{{key}}}")
            if default is not EMPTY:
                raise HandlerError(f"{at}: a path parameter cannot have a default")
        elif source == "header":
            convert = getattr(marker, "convert_underscores", True)
            if marker is None or marker.alias is None:
                key = key.replace("_", "-") if convert else key
            key = key.lower()
        base_type = base if annotation is not EMPTY else path_params[key].converter.python_type
        if source == "form":
            if not (
                is_scalar(base_type)
                or is_scalar_sequence(base_type)
                or is_upload(base_type)
                or is_form_model(base_type)
            ):
                raise HandlerError(
                    f"{at}: a form parameter must be a scalar, a list of them, an UploadFile "
                    "or a model of the form's fields"
                )
        elif source != "body" and not (is_scalar(base_type) or is_scalar_sequence(base_type)):
            raise HandlerError(f"{at}: a {source} parameter must be a scalar or a list of them")
        _, optional = _unwrap_optional(base_type)
        if default is EMPTY and optional and source != "path":
            default = None
        typ = _constrained(base_type, marker, [e for e in extras if e is not marker], at)
        specs.append(
            ParamSpec(
                param.name,
                source,
                key,
                typ,
                default,
                marker,
                many=source in ("query", "header") and is_scalar_sequence(base_type),
            )
        )
    return specs


# -- validation errors -------------------------------------------------------------------------


def _kind(value: Any) -> str:
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
                return _MISSING
            current = current[name]
        else:
            position = int(index)
            if not isinstance(current, list) or position >= len(current):
                return _MISSING
            current = current[position]
    return current


_MISSING: Any = object()


def error_item(location: str, exc: msgspec.ValidationError, raw: Any = _MISSING) -> dict[str, Any]:
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
    elif raw is not _MISSING:
        value = _value_at(raw, path) if path else raw
        if value is not _MISSING:
            item["input"] = _kind(value)
    return item


def _got(message: str) -> str | None:
    """The input kind msgspec names in "Expected `int`, got `str`", if it does."""
    _, marker, rest = message.partition("got `")
    if not marker:
        return None
    kind, closing, _ = rest.partition("`")
    return kind if closing and kind.isidentifier() else None


def has_model(annotation: Any) -> bool:
    """Whether a type contains a model (Struct, dataclass, TypedDict, pydantic) anywhere."""
    if isinstance(annotation, type):
        return (
            issubclass(annotation, msgspec.Struct)
            or dataclasses.is_dataclass(annotation)
            or typing.is_typeddict(annotation)
            or _is_pydantic_model(annotation)
        )
    return any(has_model(arg) for arg in typing.get_args(annotation))


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
    base, extras = _split_annotated(annotation)
    inner, optional = _unwrap_optional(base)

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
        # Only lists of models are walked item by item; msgspec already names the index of
        # a bad scalar item (`tags[3]`), so those lists are checked in one call.
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
    return leaf


def _model_walker(cls: type, optional: bool, leaf: Walker) -> Walker:
    # (key, required, plainly valid JSON types, plainly valid item types of a list, walker),
    # made on the first call: a model may refer to itself, so its fields' walkers cannot all
    # be built up front.
    plan: list[tuple[str, bool, tuple[type, ...], tuple[type, ...], Walker]] = []
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
            fields, forbid_unknown = _object_fields(cls)
            for key, required, field_type in fields:
                accepts, item_accepts = _plain_types(field_type)
                plan.append((key, required, accepts, item_accepts, _walker(field_type)))
                known.add(key)
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
        if forbid_unknown:
            for key in value:
                if key not in known:
                    out.append(
                        {
                            "loc": f"{location}.{key}",
                            "msg": f"Object contains unknown field `{key}`",
                            "input": _kind(value[key]),
                        }
                    )

    return model


def _plain_types(annotation: Any) -> tuple[tuple[type, ...], tuple[type, ...]]:
    """The JSON types that certainly validate as `annotation` (a bare scalar type, say
    `float`), and those of the items of a list that does (`list[str]`); empty when none."""
    inner, optional = _unwrap_optional(annotation)
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
def _object_fields(cls: type) -> tuple[tuple[tuple[str, bool, Any], ...], bool]:
    """(JSON name, required, annotation) for each field of a model, and whether unknown fields
    are refused; cached, since resolving type hints is slow."""
    info: Any = msgspec.inspect.type_info(cls)
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = tuple((f.encode_name, f.required, hints[f.name]) for f in info.fields)
    return fields, bool(getattr(info, "forbid_unknown_fields", False))


def missing_item(location: str) -> dict[str, Any]:
    return {"loc": location, "msg": "Field required", "input": "missing"}


def validation_error(errors: list[dict[str, Any]]) -> HTTPError:
    return HTTPError(
        422,
        "The request is not valid: see `errors`.",
        title="Unprocessable Content",
        extra={"errors": errors},
    )


# -- extraction ----------------------------------------------------------------------------


class _Missing(Exception):
    """A required value is absent (raised only on the error path)."""


Extract = Callable[[Request, Sequence[Any]], Any]


def _converter(spec: ParamSpec) -> Callable[[Any], Any] | None:
    """None when the raw value is already right (plain `str`), else a msgspec conversion."""
    annotation = spec.annotation
    if annotation is str or annotation == (str | None) or annotation is Any:
        return None
    return lambda raw: msgspec.convert(raw, annotation, strict=False)


def _extractor(spec: ParamSpec, path_index: dict[str, int], path_types: dict[str, type]) -> Extract:
    convert = _converter(spec)
    key = spec.key
    default = spec.default
    required = spec.required
    source = spec.source

    if source == "request":
        return lambda request, values: request

    if source == "path":
        index = path_index[key]
        if spec.annotation is path_types[key] or spec.annotation is Any:
            return lambda request, values: values[index]
        annotation = spec.annotation

        def path_value(request: Request, values: Sequence[Any]) -> Any:
            # The segment was converted by the route's converter; re-read it as the handler's type.
            return msgspec.convert(str(values[index]), annotation, strict=False)

        return path_value

    if source in ("query", "header"):
        many = spec.many

        def from_multi(request: Request, values: Sequence[Any]) -> Any:
            container = request.query_params if source == "query" else request.headers
            if many:
                raw: Any = container.getall(key)
                if not raw:
                    if required:
                        raise _Missing
                    return default
            else:
                raw = container.get(key)
                if raw is None:
                    if required:
                        raise _Missing
                    return default
            return raw if convert is None else convert(raw)

        return from_multi

    if source == "cookie":

        def from_cookie(request: Request, values: Sequence[Any]) -> Any:
            raw = request.cookies.get(key)
            if raw is None:
                if required:
                    raise _Missing
                return default
            return raw if convert is None else convert(raw)

        return from_cookie

    raise AssertionError(source)  # pragma: no cover - bodies are handled by _BodyReader


Plain = list[tuple[str, str, bool, Extract]]


def run_extractors(
    plain: Plain,
    request: Request,
    values: Sequence[Any],
    kwargs: dict[str, Any],
    errors: list[dict[str, Any]],
) -> None:
    """Fill `kwargs` from path/query/header/cookie extractors, collecting every error."""
    for name, location, many, extractor in plain:
        try:
            kwargs[name] = extractor(request, values)
        except msgspec.ValidationError as exc:
            # Path, query, header and cookie values arrive as text (a list of texts for
            # repeated keys), whatever the handler asked for.
            item = error_item(location, exc)
            item["input"] = "array" if many and item["loc"] == location else "str"
            errors.append(item)
        except _Missing:
            errors.append(missing_item(location))


class _BodyReader:
    """Decodes and validates the JSON body once for every body parameter of a handler."""

    def __init__(self, specs: list[ParamSpec], where: str) -> None:
        self.specs = specs
        embedded = len(specs) > 1 or any(
            isinstance(s.marker, Body) and s.marker.embed for s in specs
        )
        self.embedded = embedded
        self.required = any(s.required for s in specs)
        if embedded:
            fields = [
                (s.key, s.annotation) if s.required else (s.key, s.annotation, s.default)
                for s in specs
            ]
            target: Any = msgspec.defstruct(f"Body_{where}", fields, forbid_unknown_fields=False)
        else:
            target = specs[0].annotation
        self.pydantic = not embedded and _is_pydantic_model(_unwrap_optional(target)[0])
        # Lax like pydantic: 94.0 is an integer in JSON Schema, "3" a fine number in a form.
        self.decoder = None if self.pydantic else msgspec.json.Decoder(target, strict=False)
        self.target = target

    def read(self, body: bytes, kwargs: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        if not body:
            if self.required:
                errors.append(missing_item("body"))
            else:
                for spec in self.specs:
                    kwargs[spec.name] = spec.default
            return
        if self.pydantic:
            self._read_pydantic(body, kwargs, errors)
            return
        assert self.decoder is not None
        try:
            value = self.decoder.decode(body)
        except msgspec.ValidationError as exc:
            # msgspec stops at the first problem; walk the document to report all of them.
            raw = _raw_json(body)
            first = error_item("body", exc, raw)
            found: list[dict[str, Any]] = []
            if raw is not _MISSING:
                body_errors(raw, self.target, "body", found, first)
            errors.extend(found or [first])
            return
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise HTTPError(400, f"Malformed JSON: {exc}") from None
        except RecursionError:
            raise HTTPError(400, "Malformed JSON: nested too deeply.") from None
        if self.embedded:
            for spec in self.specs:
                kwargs[spec.name] = getattr(value, spec.key)
        else:
            kwargs[self.specs[0].name] = value

    def _read_pydantic(
        self, body: bytes, kwargs: dict[str, Any], errors: list[dict[str, Any]]
    ) -> None:
        from pydantic import ValidationError

        model = _unwrap_optional(self.target)[0]
        try:
            kwargs[self.specs[0].name] = model.model_validate_json(body)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                if error["type"] == "json_invalid":
                    raise HTTPError(400, f"Malformed JSON: {error['msg']}") from None
                location = "body" + "".join(
                    f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
                )
                item = {"loc": location, "msg": error["msg"]}
                if error["type"] == "missing":
                    item["input"] = "missing"
                elif "input" in error:
                    item["input"] = _kind(error["input"])
                errors.append(item)


def _raw_json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return _MISSING


def _check_json_content_type(request: Request) -> None:
    content_type = raw_header(request.scope, b"content-type")
    if content_type is None:
        return  # curl and many clients omit it; the body is still parsed strictly as JSON
    media = content_type.partition(b";")[0].strip().lower()
    if media != b"application/json" and not media.endswith(b"+json"):
        shown = media.decode("latin-1")
        raise HTTPError(415, f"Expected a JSON body, got Content-Type {shown!r}.")


def _tag(fn: Any) -> str:
    """A name for generated types, derived from the handler's."""
    return _qualname(fn).replace(".", "_").replace("<", "").replace(">", "")


def check_one_body(bodies: list[ParamSpec], forms: list[ParamSpec], where: str) -> None:
    """A request has one body: JSON or a form, and a form model stands for the whole form."""
    if bodies and forms:
        raise HandlerError(
            f"{where}: reads both a JSON body ({bodies[0].name!r}) and a form "
            f"({forms[0].name!r}); a request carries one body"
        )
    models = [s for s in forms if is_form_model(s.annotation)]
    if models and len(forms) > 1:
        others = ", ".join(repr(s.name) for s in forms if s is not models[0])
        raise HandlerError(
            f"{where}: {models[0].name!r} takes the whole form, so {others} cannot also read "
            "form fields; put them in the model"
        )


def compile_params(
    route: Route, fn: Callable[..., Any]
) -> tuple[list[ParamSpec], SyncBuilder | None, AsyncBuilder | None]:
    """The handler's parameters and the function producing its keyword arguments: a plain
    function when nothing needs awaiting, a coroutine function when a body must be read.
    Both are None when the handler takes no parameters."""
    where = f"handler {_qualname(fn)} for {route.path!r}"
    specs = inspect_callable(fn, where, {p.name: p for p in route.params}, route.path)
    if not specs or any(s.source in ("depends", "response") for s in specs):
        return specs, None, None  # dependencies are resolved by the dependency plan
    param_names = route.param_names
    path_index = {name: i for i, name in enumerate(param_names)}
    path_types = {p.name: p.converter.python_type for p in route.params}
    bodies = [s for s in specs if s.source == "body"]
    forms = [s for s in specs if s.source == "form"]
    check_one_body(bodies, forms, where)
    plain = [
        (s.name, s.location, s.many, _extractor(s, path_index, path_types))
        for s in specs
        if s.source not in ("body", "form")
    ]

    if not bodies and all(
        s.source == "path" and (s.annotation is path_types[s.key] or s.annotation is Any)
        for s in specs
    ):
        names = [(s.name, path_index[s.key]) for s in specs]

        def path_only(scope: Scope, receive: Receive, values: Sequence[Any]) -> dict[str, Any]:
            return {name: values[index] for name, index in names}

        return specs, path_only, None

    def extract(
        request: Request, values: Sequence[Any], errors: list[dict[str, Any]]
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        run_extractors(plain, request, values, kwargs, errors)
        return kwargs

    def new_request(scope: Scope, receive: Receive, values: Sequence[Any]) -> Request:
        if param_names:
            scope["brace.path_values"] = (param_names, values)
        return Request(scope, receive)

    if all(s.source in ("path", "query") for s in specs):
        return specs, _path_and_query_builder(specs, path_index, path_types), None

    if forms:
        from .formreader import FormReader

        form_reader = FormReader(forms, _tag(fn))

        async def build_with_form(
            scope: Scope, receive: Receive, values: Sequence[Any]
        ) -> dict[str, Any]:
            request = new_request(scope, receive, values)
            errors: list[dict[str, Any]] = []
            kwargs = extract(request, values, errors)
            form_reader.read(await request.form(), kwargs, errors)
            if errors:
                raise validation_error(errors)
            return kwargs

        return specs, None, build_with_form

    if not bodies:

        def build(scope: Scope, receive: Receive, values: Sequence[Any]) -> dict[str, Any]:
            errors: list[dict[str, Any]] = []
            kwargs = extract(new_request(scope, receive, values), values, errors)
            if errors:
                raise validation_error(errors)
            return kwargs

        return specs, build, None

    body_reader = _BodyReader(bodies, _tag(fn))

    async def build_with_body(
        scope: Scope, receive: Receive, values: Sequence[Any]
    ) -> dict[str, Any]:
        request = new_request(scope, receive, values)
        errors: list[dict[str, Any]] = []
        kwargs = extract(request, values, errors)
        _check_json_content_type(request)
        body_reader.read(await request.body(), kwargs, errors)
        if errors:
            raise validation_error(errors)
        return kwargs

    return specs, None, build_with_body


def _path_and_query_builder(
    specs: list[ParamSpec], path_index: dict[str, int], path_types: dict[str, type]
) -> SyncBuilder:
    """The common typed-GET case: only path and query values, read straight from the scope
    without building a Request (the hottest path of typed APIs)."""
    query_specs = [
        (s.name, s.location, s.key, s.many, _converter(s), s.default, s.required)
        for s in specs
        if s.source == "query"
    ]
    path_specs = [
        (s.name, s.location, _extractor(s, path_index, path_types))
        for s in specs
        if s.source == "path"
    ]

    def build(scope: Scope, receive: Receive, values: Sequence[Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] | None = None
        for name, location, extract in path_specs:
            try:
                kwargs[name] = extract(None, values)  # type: ignore[arg-type]
            except msgspec.ValidationError as exc:
                errors = errors or []
                item = error_item(location, exc)
                item["input"] = "str"
                errors.append(item)
        raw_query = scope.get("query_string")
        try:
            pairs = parse_query(raw_query) if raw_query else []
        except UnicodeDecodeError:
            raise HTTPError(400, "The query string is not valid UTF-8.") from None
        query = dict(pairs) if pairs else {}
        for name, location, key, many, convert, default, required in query_specs:
            raw: Any = [v for k, v in pairs if k == key] if many else query.get(key)
            if raw is None or (many and not raw):
                if required:
                    errors = errors or []
                    errors.append(missing_item(location))
                else:
                    kwargs[name] = default
                continue
            if convert is None:
                kwargs[name] = raw
                continue
            try:
                kwargs[name] = convert(raw)
            except msgspec.ValidationError as exc:
                errors = errors or []
                item = error_item(location, exc)
                item["input"] = "array" if many and item["loc"] == location else "str"
                errors.append(item)
        if errors:
            raise validation_error(errors)
        return kwargs

    return build

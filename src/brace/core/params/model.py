"""One model of a parameter: classify a handler's or dependency's signature, once.

Each parameter gets a `ParamSpec` (where it comes from, its wire name, the type that validates
it). Handlers and dependencies are read by the same `inspect_callable`, so one rule decides
what a parameter means wherever it is declared.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
import typing
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import msgspec

from ..background import BackgroundTasks, background_tasks
from ..connection import HTTPConnection
from ..datastructures import UploadFile
from ..forms import FormResult
from ..markers import Depends, Param
from ..responses import Response
from ..routing import PathParam

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
SEQUENCES = (list, tuple, set, frozenset, Sequence)


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


def split_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        return base, extras
    return annotation, []


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return rest[0], True
    return annotation, False


def is_scalar(annotation: Any) -> bool:
    """Types that a single string (a path segment, a query value, a header) can carry."""
    inner, _ = unwrap_optional(split_annotated(annotation)[0])
    inner = split_annotated(inner)[0]
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
    inner, _ = unwrap_optional(split_annotated(annotation)[0])
    inner = split_annotated(inner)[0]
    if typing.get_origin(inner) in SEQUENCES or inner in (list, tuple, set, frozenset):
        args = [a for a in typing.get_args(inner) if a is not Ellipsis]
        return all(is_scalar(a) for a in args)
    return False


def is_pydantic_model(annotation: Any) -> bool:
    # No class can subclass BaseModel unless pydantic is already imported: look it up rather
    # than importing it, which would cost every app ~5 MiB whether it uses pydantic or not.
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return False
    return isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)


def bare(annotation: Any) -> Any:
    inner, _ = unwrap_optional(split_annotated(annotation)[0])
    return split_annotated(inner)[0]


def is_upload(annotation: Any) -> bool:
    """`UploadFile`, `UploadFile | None` or a list of them."""
    inner = bare(annotation)
    if typing.get_origin(inner) in (list, *SEQUENCES):
        args = typing.get_args(inner)
        return bool(args) and bare(args[0]) is UploadFile
    return inner is UploadFile


def is_form_model(annotation: Any) -> bool:
    """A model whose fields are a form's fields."""
    inner = bare(annotation)
    return isinstance(inner, type) and (
        issubclass(inner, msgspec.Struct)
        or dataclasses.is_dataclass(inner)
        or typing.is_typeddict(inner)
        or is_pydantic_model(inner)
    )


def is_body_type(annotation: Any) -> bool:
    """Structured types that only a request body can carry."""
    inner, _ = unwrap_optional(split_annotated(annotation)[0])
    inner = split_annotated(inner)[0]
    if isinstance(inner, type):
        if issubclass(inner, msgspec.Struct) or dataclasses.is_dataclass(inner):
            return True
        if typing.is_typeddict(inner) or is_pydantic_model(inner):
            return True
        if inner in (dict, list):
            return True
    origin = typing.get_origin(inner)
    if origin in (dict, list, tuple, set, frozenset) or origin in SEQUENCES:
        return True
    return False


# -- compilation -------------------------------------------------------------------------------


def qualname(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _constrained(annotation: Any, marker: Param | None, extras: list[Any], where: str) -> Any:
    """The type to validate with: the annotation plus the marker's constraints."""
    meta = marker.meta() if marker is not None else None
    inner, optional = unwrap_optional(annotation)
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
    return [
        _classify(
            param,
            hints.get(param.name, EMPTY),
            f"{where}, parameter {param.name!r}",
            path_params,
            path,
        )
        for param in signature.parameters.values()
    ]


def _classify(
    param: inspect.Parameter,
    annotation: Any,
    at: str,
    path_params: dict[str, PathParam],
    path: str,
) -> ParamSpec:
    """What one parameter is: a dependency, a special object, or a value from the request."""
    if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
        raise HandlerError(f"{at}: *args/**kwargs parameters are not supported")
    if param.kind is inspect.Parameter.POSITIONAL_ONLY:
        raise HandlerError(f"{at}: must not be positional-only")
    base, extras = split_annotated(annotation)
    markers = [m for m in extras if isinstance(m, (Param, Depends))]
    if len(markers) > 1:
        raise HandlerError(f"{at}: more than one source marker ({markers})")
    if isinstance(param.default, (Param, Depends)):
        raise HandlerError(f"{at}: put markers in Annotated[...], not in the default value")
    first = markers[0] if markers else None
    if isinstance(first, Depends):
        return ParamSpec(param.name, "depends", param.name, base, dependency=first)
    special = _special(param.name, base, at)
    if special is not None:
        return special
    source = _source_of(param.name, annotation, base, first, path_params, at)
    return _value_spec(param, annotation, base, extras, first, source, path_params, path, at)


def _special(name: str, base: Any, at: str) -> ParamSpec | None:
    """Parameters that are not request values: FormResult, BackgroundTasks, the connection,
    the response."""
    if typing.get_origin(base) is FormResult:
        (model,) = typing.get_args(base) or (Any,)
        if not is_form_model(model):
            raise HandlerError(f"{at}: FormResult[...] needs a model, not {model!r}")
        return ParamSpec(name, "form", name, model, result=True)
    if not isinstance(base, type):
        return None
    if issubclass(base, BackgroundTasks):
        # Tasks run after the response: a generator dependency does exactly that.
        return ParamSpec(name, "depends", name, base, dependency=Depends(background_tasks))
    if issubclass(base, HTTPConnection):
        return ParamSpec(name, "request", name, base)
    if issubclass(base, Response):
        # Headers, cookies and a status for a handler that returns plain data.
        return ParamSpec(name, "response", name, base)
    return None


def _source_of(
    name: str,
    annotation: Any,
    base: Any,
    marker: Param | None,
    path_params: dict[str, PathParam],
    at: str,
) -> str:
    """Where a value comes from: its marker says, else its name or type does."""
    if marker is not None:
        return marker.source
    if name in path_params:
        return "path"
    if is_upload(base):
        return "form"
    if annotation is EMPTY:
        raise HandlerError(
            f"{at}: no type annotation and not a path parameter; annotate it "
            f"(`{name}: str` for a query parameter, `request: Request`, or a model "
            "for a JSON body)"
        )
    if is_scalar(base) or is_scalar_sequence(base):
        return "query"
    if is_body_type(base):
        return "body"
    raise HandlerError(
        f"{at}: cannot tell where {base!r} comes from; use Annotated[..., Query()] / "
        "Header() / Cookie() / Body(), or a msgspec Struct, dataclass, TypedDict or "
        "pydantic model for a JSON body"
    )


def _wire_key(
    name: str,
    source: str,
    marker: Param | None,
    default: Any,
    path_params: dict[str, Any],
    path: str,
    at: str,
) -> str:
    """The name on the wire: the alias, a header's dashed lower-case name, a path segment."""
    key = (marker.alias if marker is not None else None) or name
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
    return key


def _check_shape(source: str, base_type: Any, at: str) -> None:
    """Only bodies carry structures; forms carry scalars, lists, files or a whole model."""
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


def _value_spec(
    param: inspect.Parameter,
    annotation: Any,
    base: Any,
    extras: list[Any],
    marker: Param | None,
    source: str,
    path_params: dict[str, PathParam],
    path: str,
    at: str,
) -> ParamSpec:
    default = param.default
    key = _wire_key(param.name, source, marker, default, path_params, path, at)
    base_type = base if annotation is not EMPTY else path_params[key].converter.python_type
    _check_shape(source, base_type, at)
    _, optional = unwrap_optional(base_type)
    if default is EMPTY and optional and source != "path":
        default = None
    typ = _constrained(base_type, marker, [e for e in extras if e is not marker], at)
    many = source in ("query", "header") and is_scalar_sequence(base_type)
    return ParamSpec(param.name, source, key, typ, default, marker, many=many)


def has_model(annotation: Any) -> bool:
    """Whether a type contains a model (Struct, dataclass, TypedDict, pydantic) anywhere."""
    if isinstance(annotation, type):
        return (
            issubclass(annotation, msgspec.Struct)
            or dataclasses.is_dataclass(annotation)
            or typing.is_typeddict(annotation)
            or is_pydantic_model(annotation)
        )
    return any(has_model(arg) for arg in typing.get_args(annotation))


def object_fields(cls: type) -> tuple[tuple[tuple[str, bool, Any], ...], bool]:
    """(JSON name, required, annotation) for each field of a model, and whether unknown fields
    are refused; cached, since resolving type hints is slow."""
    info: Any = msgspec.inspect.type_info(cls)
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = tuple((f.encode_name, f.required, hints[f.name]) for f in info.fields)
    return fields, bool(getattr(info, "forbid_unknown_fields", False))


def type_tag(fn: Any) -> str:
    """A name for generated types, derived from the handler's."""
    return qualname(fn).replace(".", "_").replace("<", "").replace(">", "")

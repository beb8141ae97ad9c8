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
    specs: list[ParamSpec] = []
    for param in signature.parameters.values():
        at = f"{where}, parameter {param.name!r}"
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise HandlerError(f"{at}: *args/**kwargs parameters are not supported")
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise HandlerError(f"{at}: must not be positional-only")
        annotation = hints.get(param.name, EMPTY)
        base, extras = split_annotated(annotation)
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
        if isinstance(base, type) and issubclass(base, HTTPConnection):
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
        _, optional = unwrap_optional(base_type)
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

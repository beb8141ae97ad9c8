"""Compile a handler's signature into a per-route plan, once, at start-up.

A plan is `async plan(scope, receive, send, path_values)`: it extracts what the handler
declared, calls it (a plain `def` runs in a worker thread), and renders the return value.
The request path never inspects signatures or type hints.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any, Protocol

import msgspec

from .errors import HTTPError
from .requests import Request
from .responses import Response, json_encoder
from .routing import Route
from .types import Receive, Scope, Send

__all__ = ["Plan", "compile_plan", "render_rules"]

Plan = Callable[[Scope, Receive, Send, Sequence[Any]], Awaitable[None]]

_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_JSON = (b"content-type", b"application/json")
_OCTET = (b"content-type", b"application/octet-stream")
_EMPTY_BODY = {"type": "http.response.body", "body": b""}

render_rules = """\
Response          -> sent as it is
str               -> 200 text/plain; charset=utf-8
bytes             -> 200 application/octet-stream
None              -> 204 No Content
anything else     -> 200 application/json (dict, list, msgspec.Struct, dataclass, ...)
"""


class ErrorHandler(Protocol):
    async def __call__(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """Turn an exception into a response (the app's exception handling)."""


class HandlerError(TypeError):
    """A handler's signature cannot be served; raised at start-up with the handler's name."""


def _qualname(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def is_async_callable(fn: Any) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - async callable objects
    )


async def send_body(
    send: Send, status: int, content_type: tuple[bytes, bytes], body: bytes
) -> None:
    """Send a complete response in two messages, the fastest shape for ASGI servers."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [content_type, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_no_content(send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send(_EMPTY_BODY)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


_SCALARS: tuple[type, ...] = (str, int, float, bool)


def _is_scalar(annotation: Any) -> bool:
    inner, _ = _unwrap_optional(annotation)
    if inner in _SCALARS or inner is Any:
        return True
    if isinstance(inner, type) and issubclass(inner, Enum):
        return True
    origin = typing.get_origin(inner)
    if origin is typing.Literal:
        return True
    if origin in (list, tuple, set, frozenset, Sequence):
        args = typing.get_args(inner)
        return not args or all(_is_scalar(a) for a in args if a is not Ellipsis)
    try:
        import uuid
        from datetime import date, datetime, time

        return inner in (uuid.UUID, datetime, date, time)
    except ImportError:  # pragma: no cover
        return False


def _is_sequence(annotation: Any) -> bool:
    inner, _ = _unwrap_optional(annotation)
    return typing.get_origin(inner) in (list, tuple, set, frozenset, Sequence)


class _Extractor:
    """How to fill one handler parameter from the request."""

    __slots__ = ("annotation", "convert", "default", "kind", "name", "source")

    def __init__(
        self,
        name: str,
        kind: str,
        *,
        source: Any = None,
        annotation: Any = None,
        default: Any = inspect.Parameter.empty,
    ) -> None:
        self.name = name
        self.kind = kind  # "request" | "path" | "query"
        self.source = source
        self.annotation = annotation
        self.default = default


def _convert(value: Any, annotation: Any) -> Any:
    return msgspec.convert(value, annotation, strict=False)


def _build_extractors(route: Route, fn: Callable[..., Any]) -> list[_Extractor]:
    where = f"handler {_qualname(fn)} for {route.path!r}"
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise HandlerError(f"{where}: cannot read its signature ({exc})") from None
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise HandlerError(f"{where}: cannot resolve its type hints ({exc})") from exc
    path_params = {p.name: p for p in route.params}
    extractors: list[_Extractor] = []
    for param in signature.parameters.values():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise HandlerError(f"{where}: *args/**kwargs parameters are not supported")
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise HandlerError(f"{where}: parameter {param.name!r} must not be positional-only")
        annotation = hints.get(param.name, inspect.Parameter.empty)
        if isinstance(annotation, type) and issubclass(annotation, Request):
            extractors.append(_Extractor(param.name, "request"))
            continue
        if param.name in path_params:
            index = list(path_params).index(param.name)
            converter = path_params[param.name].converter
            target = annotation
            needs_convert = (
                target is not inspect.Parameter.empty
                and target is not Any
                and target is not converter.python_type
            )
            extractor = _Extractor(
                param.name, "path", source=index, annotation=target if needs_convert else None
            )
            extractors.append(extractor)
            continue
        if annotation is inspect.Parameter.empty:
            raise HandlerError(
                f"{where}: parameter {param.name!r} has no type annotation and is not a "
                f"path parameter; annotate it (e.g. `{param.name}: str` for a query parameter "
                "or `request: Request`)"
            )
        if _is_scalar(annotation):
            default = param.default
            _, optional = _unwrap_optional(annotation)
            if default is inspect.Parameter.empty and optional:
                default = None
            extractors.append(
                _Extractor(param.name, "query", annotation=annotation, default=default)
            )
            continue
        raise HandlerError(
            f"{where}: parameter {param.name!r}: {annotation!r} is not supported yet "
            "(path parameters, query scalars and `Request` are)"
        )
    return extractors


def _validation_error(errors: list[dict[str, Any]]) -> HTTPError:
    return HTTPError(
        422,
        "The request has invalid parameters.",
        title="Unprocessable Content",
        extra={"errors": errors},
    )


def _make_kwargs_builder(
    extractors: list[_Extractor], param_names: tuple[str, ...]
) -> Callable[[Scope, Receive, Sequence[Any]], dict[str, Any]]:
    simple_path = all(e.kind == "path" and e.annotation is None for e in extractors)
    if simple_path:
        names = [(e.name, e.source) for e in extractors]

        def path_only(scope: Scope, receive: Receive, values: Sequence[Any]) -> dict[str, Any]:
            return {name: values[index] for name, index in names}

        return path_only

    def _request(scope: Scope, receive: Receive, values: Sequence[Any]) -> Request:
        if param_names:
            scope["path_params"] = dict(zip(param_names, values, strict=True))
        return Request(scope, receive)

    def build(scope: Scope, receive: Receive, values: Sequence[Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        request: Request | None = None
        for e in extractors:
            kind = e.kind
            if kind == "path":
                value = values[e.source]
                if e.annotation is not None:
                    try:
                        value = _convert(value, e.annotation)
                    except msgspec.ValidationError as exc:
                        errors.append(
                            {"loc": f"path.{e.name}", "msg": str(exc), "input": str(value)}
                        )
                        continue
                kwargs[e.name] = value
            elif kind == "request":
                if request is None:
                    request = _request(scope, receive, values)
                kwargs[e.name] = request
            else:  # query
                if request is None:
                    request = _request(scope, receive, values)
                query = request.query_params
                if _is_sequence(e.annotation):
                    raw: Any = query.getall(e.name)
                    if not raw and e.default is not inspect.Parameter.empty:
                        kwargs[e.name] = e.default
                        continue
                else:
                    raw = query.get(e.name)
                    if raw is None:
                        if e.default is inspect.Parameter.empty:
                            errors.append({"loc": f"query.{e.name}", "msg": "Field required"})
                        else:
                            kwargs[e.name] = e.default
                        continue
                try:
                    kwargs[e.name] = _convert(raw, e.annotation)
                except msgspec.ValidationError as exc:
                    errors.append({"loc": f"query.{e.name}", "msg": str(exc)})
        if errors:
            raise _validation_error(errors)
        return kwargs

    return build


def _encode_other(result: Any, status: int) -> tuple[int, tuple[bytes, bytes] | None, bytes]:
    """Status, content type and body for return values off the str/dict/list fast path."""
    if result is None:
        return 204, None, b""
    if isinstance(result, (bytes, bytearray, memoryview)):
        return status, _OCTET, bytes(result)
    return status, _JSON, json_encoder.encode(result)  # TypeError for unknown types


async def send_encoded(
    send: Send, status: int, content_type: tuple[bytes, bytes] | None, body: bytes
) -> None:
    if content_type is None:
        await _send_no_content(send)
    else:
        await send_body(send, status, content_type, body)


async def send_response(
    response: Response, scope: Scope, receive: Receive, send: Send, on_error: ErrorHandler
) -> None:
    """Send a Response object; an error before it started becomes an error response, one
    after is reported through `on_error` with the response marked as started."""
    started = False

    async def tracking_send(message: Any) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await response(scope, receive, tracking_send)
    except Exception as exc:
        if started:
            scope["brace.response_started"] = True
        await on_error(exc, scope, receive, send)


async def render(
    result: Any, status: int, scope: Scope, receive: Receive, send: Send, on_error: ErrorHandler
) -> None:
    """Send any handler return value following `render_rules` (used off the hot path)."""
    if isinstance(result, Response):
        await send_response(result, scope, receive, send, on_error)
        return
    content_type: tuple[bytes, bytes] | None
    try:
        if type(result) is str:
            code, content_type, body = status, _TEXT, result.encode()
        else:
            code, content_type, body = _encode_other(result, status)
    except Exception as exc:
        await on_error(exc, scope, receive, send)
        return
    await send_encoded(send, code, content_type, body)


def compile_plan(route: Route, on_error: ErrorHandler) -> Plan:
    """Prepare everything about calling `route.endpoint` that does not depend on the request."""
    fn = route.endpoint
    status = route.status_code or 200
    extractors = _build_extractors(route, fn)
    build = _make_kwargs_builder(extractors, route.param_names) if extractors else None

    if is_async_callable(fn):
        call: Callable[..., Awaitable[Any]] = fn
    else:

        async def call(**kwargs: Any) -> Any:
            # A plain `def` may block: run it in a worker thread, with contextvars copied.
            return await asyncio.to_thread(fn, **kwargs)

    async def plan(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        try:
            result = await (call(**build(scope, receive, values)) if build else call())
            kind = type(result)
            content_type: tuple[bytes, bytes] | None
            if kind is str:
                code, content_type, body = status, _TEXT, result.encode()
            elif kind is dict or kind is list:
                code, content_type, body = status, _JSON, json_encoder.encode(result)
            elif isinstance(result, Response):
                await send_response(result, scope, receive, send, on_error)
                return
            else:
                code, content_type, body = _encode_other(result, status)
        except Exception as exc:
            await on_error(exc, scope, receive, send)
            return
        if content_type is None:
            await _send_no_content(send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": code,
                "headers": [content_type, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    plan.__qualname__ = f"plan[{_qualname(fn)}]"
    return plan

"""Compile a handler's signature into a per-route plan, once, at start-up.

A plan is `async plan(scope, receive, send, path_values)`: it extracts what the handler
declared, calls it (a plain `def` runs in a worker thread), and renders the return value.
The request path never inspects signatures or type hints.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import msgspec

from .params.dependencies import Dependant, Injector, Solver, compile_dependant
from .params.extract import (
    HandlerError,
    ParamSpec,
    _is_pydantic_model,
    compile_params,
    has_model,
)
from .requests import Request
from .responses import Response, json_encoder
from .routing import Route
from .schema_types import has_schema, wire_type
from .types import Receive, Scope, Send

__all__ = ["HandlerError", "Operation", "Plan", "compile_operation", "render_rules"]

Plan = Callable[[Scope, Receive, Send, Sequence[Any]], Awaitable[None]]

_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_JSON = (b"content-type", b"application/json")
_OCTET = (b"content-type", b"application/octet-stream")
_PLAIN_SEND = Response.__call__

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
    # A fresh dict each time: middleware may rewrite the message it is handed.
    await send({"type": "http.response.body", "body": b""})


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


def _app_scoped(dependant: Dependant, found: list[Dependant]) -> list[Dependant]:
    for _, marker, sub in dependant.subs:
        if marker.scope == "app":
            found.append(sub)
        _app_scoped(sub, found)
    return found


def _declared_response(route: Route) -> Any:
    if route.response_model is not None:
        return route.response_model
    try:
        return typing.get_type_hints(route.endpoint).get("return")
    except Exception:  # unresolvable return hints only lose filtering, not the route
        return None


def response_filter(declared: Any, where: str) -> Callable[[Any], Any] | None:
    """A function that reduces a return value to the declared type, so a field that is not
    declared never leaks; None when the declared type needs no filtering (dict, str...)."""
    if has_schema(declared):
        declared = wire_type(declared)  # ORM models and the like: their declared wire type
    if declared is None or not has_model(declared):
        return None  # dict[str, int], list[str]...: nothing undeclared can hide in those
    if _is_pydantic_model(declared):
        model = declared

        def to_model(result: Any) -> Any:
            if result is None or isinstance(result, Response) or type(result) is model:
                return result
            return model.model_validate(result, from_attributes=True)

        return to_model
    try:
        msgspec.inspect.type_info(declared)
    except TypeError as exc:
        raise HandlerError(
            f"{where}: the declared response type is not serializable: {exc}"
        ) from None
    exact = declared if isinstance(declared, type) else None

    def to_declared(result: Any) -> Any:
        if result is None or isinstance(result, Response) or type(result) is exact:
            return result
        try:
            return msgspec.convert(result, declared, from_attributes=True)
        except msgspec.ValidationError as exc:
            raise TypeError(
                f"{where} returned a value that does not match its declared response type "
                f"{declared!r}: {exc}"
            ) from None

    return to_declared


@dataclasses.dataclass(frozen=True, slots=True)
class Operation:
    """A compiled route: its plan, every request value it reads, and its response type."""

    route: Route
    plan: Plan
    params: list[ParamSpec]
    response_type: Any
    security: str | None = None  # "required" / "optional": a dependency authenticates


def _tree_params(dependant: Dependant, seen: set[tuple[str, str]], out: list[ParamSpec]) -> None:
    for _, marker, sub in dependant.subs:
        if marker.scope != "app":
            _tree_params(sub, seen, out)
    for spec in dependant.specs:
        key = (spec.source, spec.key)
        if spec.source not in ("depends", "request", "response") and key not in seen:
            seen.add(key)
            out.append(spec)


def compile_operation(route: Route, on_error: ErrorHandler, injector: Injector) -> Operation:
    """Compile a route once: the plan that serves it and what documents it."""
    declared = _declared_response(route)
    plan, params, security = _compile_plan(route, on_error, injector, declared)
    plan.__qualname__ = f"plan[{_qualname(route.endpoint)}]"
    return Operation(route, plan, params, declared, security)


def _compile_plan(
    route: Route, on_error: ErrorHandler, injector: Injector, declared: Any
) -> tuple[Plan, list[ParamSpec], str | None]:
    """Prepare everything about calling `route.endpoint` that does not depend on the request."""
    fn = route.endpoint
    status = route.status_code or 200
    specs, build, build_async = compile_params(route, fn)
    where = f"handler {_qualname(fn)} for {route.path!r}"
    shape = response_filter(declared, where)

    call: Callable[..., Awaitable[Any]]
    if shape is not None:
        call = _shaped(fn, shape)
    elif is_async_callable(fn):
        call = fn
    else:

        async def in_thread(**kwargs: Any) -> Any:
            # A plain `def` may block: run it in a worker thread, with contextvars copied.
            return await asyncio.to_thread(fn, **kwargs)

        call = in_thread

    if route.dependencies or any(s.source in ("depends", "response") for s in specs):
        return _plan_with_dependencies(route, call, status, on_error, injector)

    async def plan(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        try:
            # Branches rather than a helper coroutine: one frame less on every request.
            if build is not None:
                result = await call(**build(scope, receive, values))
            elif build_async is not None:
                result = await call(**(await build_async(scope, receive, values)))
            else:
                result = await call()
            kind = type(result)
            headers: list[tuple[bytes, bytes]] | None
            if kind is str:
                code, body = status, result.encode()
                headers = [_TEXT, (b"content-length", str(len(body)).encode())]
            elif kind is dict or kind is list:
                code, body = status, json_encoder.encode(result)
                headers = [_JSON, (b"content-length", str(len(body)).encode())]
            elif isinstance(result, Response):
                if kind.__call__ is not _PLAIN_SEND:  # streams and files send themselves
                    await send_response(result, scope, receive, send, on_error)
                    return
                # A body held in memory is sent here, like a dict, with its own headers.
                code, body, headers = result.status_code, result.body, result._final_headers(scope)
            else:
                code, content_type, body = _encode_other(result, status)
                headers = (
                    None
                    if content_type is None
                    else [content_type, (b"content-length", str(len(body)).encode())]
                )
        except Exception as exc:
            await on_error(exc, scope, receive, send)
            return
        if headers is None:
            await _send_no_content(send)
            return
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return plan, [s for s in specs if s.source != "request"], None


def _shaped(fn: Callable[..., Any], shape: Callable[[Any], Any]) -> Callable[..., Awaitable[Any]]:
    """Call `fn` (in a thread when it is sync) and reduce its result to the declared type."""
    if is_async_callable(fn):

        async def call_async(**kwargs: Any) -> Any:
            return shape(await fn(**kwargs))

        return call_async

    async def call_sync(**kwargs: Any) -> Any:
        return shape(await asyncio.to_thread(fn, **kwargs))

    return call_sync


def _plan_with_dependencies(
    route: Route,
    call: Callable[..., Awaitable[Any]],
    status: int,
    on_error: ErrorHandler,
    injector: Injector,
) -> tuple[Plan, list[ParamSpec], str | None]:
    """The plan for handlers with dependencies: resolve the tree, call, send, then close
    generator dependencies (with the handler's exception, if it failed)."""
    path_params = {p.name: p for p in route.params}
    where = f"handler {_qualname(route.endpoint)} for {route.path!r}"
    dependant = compile_dependant(
        route.endpoint, path_params, route.path, route.dependencies, where=where
    )
    injector.app_scoped.extend(_app_scoped(dependant, []))
    param_names = route.param_names

    async def plan(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        if param_names:
            scope["brace.path_values"] = (param_names, values)
        solver = Solver(Request(scope, receive), values, injector, path_params, route.path)
        try:
            kwargs = await solver.arguments(dependant)
            solver.raise_for_errors()
            result = await call(**kwargs)
            if solver.handler_exits:
                await solver.finish_handler()
        except Exception as exc:
            await on_error(exc, scope, receive, send)
            await solver.close(exc)
            return
        if solver.response is not None and not isinstance(result, Response):
            send = solver.response.apply(scope, send)
        await render(result, status, scope, receive, send, on_error)
        await solver.close(None)

    params: list[ParamSpec] = []
    _tree_params(dependant, set(), params)
    _record_functions(dependant, route, injector.functions)
    return plan, params, _security(dependant)


def _security(dependant: Dependant) -> str | None:
    """What OpenAPI shows as the operation's security, from its dependencies'
    `__brace_security__`: "permission" when one checks permissions (401 or 403),
    "required" when one demands credentials (401), "optional" when one only reads them,
    else None."""
    found: set[str] = set()

    def walk(node: Dependant) -> None:
        marker = getattr(node.fn, "__brace_security__", None)
        if marker:
            found.add(marker)
        for _, _, sub in node.subs:
            walk(sub)

    walk(dependant)
    for level in ("permission", "required", "optional"):
        if level in found:
            return level
    return None


def _record_functions(dependant: Dependant, route: Route, found: dict[Any, str]) -> None:
    for _, _marker, sub in dependant.subs:
        found.setdefault(sub.fn, f"dependency {_qualname(sub.fn)} of {route.describe()}")
        _record_functions(sub, route, found)

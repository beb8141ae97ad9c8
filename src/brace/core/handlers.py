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
from typing import Any

import msgspec

from .params.builders import specialise
from .params.dependant import Dependant, compile_dependant
from .params.dependencies import Injector, Solver
from .params.model import HandlerError, ParamSpec, has_model, is_pydantic_model, qualname, type_tag
from .requests import Request
from .responses import Response
from .routing import Route
from .schema_types import has_schema, wire_type
from .scope import PATH_VALUES
from .sending import (
    ErrorHandler,
    encode_result,
    reader_for,
    render,
    render_rules,
    send_response,
)
from .types import Receive, Scope, Send

__all__ = ["HandlerError", "Operation", "Plan", "compile_operation", "render_rules"]

Plan = Callable[[Scope, Receive, Send, Sequence[Any]], Awaitable[None]]


def is_async_callable(fn: Any) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - async callable objects
    )


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
    if is_pydantic_model(declared):
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
    dependencies: tuple[Callable[..., Any], ...] = ()
    """Every dependency function the route resolves, outermost first (what documents and
    plugins read: OpenAPI derives an operation's security from them)."""


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
    plan, params, dependencies = _compile_plan(route, on_error, injector, declared)
    plan.__qualname__ = f"plan[{qualname(route.endpoint)}]"
    return Operation(route, plan, params, declared, dependencies)


def _compile_plan(
    route: Route, on_error: ErrorHandler, injector: Injector, declared: Any
) -> tuple[Plan, list[ParamSpec], tuple[Callable[..., Any], ...]]:
    """Prepare everything about calling `route.endpoint` that does not depend on the request."""
    fn = route.endpoint
    status = route.status_code or 200
    where = f"handler {qualname(fn)} for {route.path!r}"
    # The handler's signature is read once, by the same engine that reads dependencies.
    dependant = compile_dependant(
        fn,
        {p.name: p for p in route.params},
        route.path,
        route.dependencies,
        where=where,
        tag=type_tag(fn),
    )
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

    params: list[ParamSpec] = []
    _tree_params(dependant, set(), params)
    if dependant.subs or dependant.reads_response:
        solved = _plan_with_dependencies(dependant, route, call, status, on_error, injector)
        _record_functions(dependant, route, injector.functions)
        return solved, params, _dependency_functions(dependant)
    build, build_async = specialise(dependant, route)

    async def plan(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        try:
            # Branches rather than a helper coroutine: one frame less on every request.
            if build is not None:
                result = await call(**build(scope, receive, values))
            elif build_async is not None:
                result = await call(**(await build_async(scope, receive, values)))
            else:
                result = await call()
            reader = reader_for(result)
            if reader is None:
                encoded = encode_result(result, status, scope)
            else:
                encoded = await reader(encode_result, result, status, scope)
        except Exception as exc:
            await on_error(exc, scope, receive, send)
            return
        if encoded is None:  # streams and files send themselves
            await send_response(result, scope, receive, send, on_error)
            return
        # The two ASGI messages inline, as send_complete() sends them: one frame less.
        await send({"type": "http.response.start", "status": encoded[0], "headers": encoded[1]})
        await send({"type": "http.response.body", "body": encoded[2]})

    return plan, params, ()


def _shaped(fn: Callable[..., Any], shape: Callable[[Any], Any]) -> Callable[..., Awaitable[Any]]:
    """Call `fn` (in a thread when it is sync) and reduce its result to the declared type,
    through the result's reader when it has one (an ORM model: lazy loads work)."""
    if is_async_callable(fn):

        async def call_async(**kwargs: Any) -> Any:
            result = await fn(**kwargs)
            reader = reader_for(result)
            return shape(result) if reader is None else await reader(shape, result)

        return call_async

    async def call_sync(**kwargs: Any) -> Any:
        result = await asyncio.to_thread(fn, **kwargs)
        reader = reader_for(result)
        return shape(result) if reader is None else await reader(shape, result)

    return call_sync


def _plan_with_dependencies(
    dependant: Dependant,
    route: Route,
    call: Callable[..., Awaitable[Any]],
    status: int,
    on_error: ErrorHandler,
    injector: Injector,
) -> Plan:
    """The plan for handlers with dependencies: resolve the tree, call, send, then close
    generator dependencies (with the handler's exception, if it failed)."""
    path_params = {p.name: p for p in route.params}
    injector.app_scoped.extend(_app_scoped(dependant, []))
    param_names = route.param_names

    async def plan(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        if param_names:
            scope[PATH_VALUES] = (param_names, values)
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

    return plan


def _dependency_functions(dependant: Dependant) -> tuple[Callable[..., Any], ...]:
    found: list[Callable[..., Any]] = []

    def walk(node: Dependant) -> None:
        for _, _, sub in node.subs:
            if sub.fn not in found:
                found.append(sub.fn)
            walk(sub)

    walk(dependant)
    return tuple(found)


def _record_functions(dependant: Dependant, route: Route, found: dict[Any, str]) -> None:
    for _, _marker, sub in dependant.subs:
        found.setdefault(sub.fn, f"dependency {qualname(sub.fn)} of {route.describe()}")
        _record_functions(sub, route, found)

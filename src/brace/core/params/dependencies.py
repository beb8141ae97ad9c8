"""Dependency injection: compile `Depends(...)` trees at start-up, resolve them per request.

Each dependency resolves once per request (unless `use_cache=False`); generator dependencies
are closed after the response is sent, LIFO, with the handler's exception thrown in when it
failed. App-scoped dependencies are created once and closed at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from typing import Any, cast

from ..connection import HTTPConnection
from ..markers import Depends
from ..requests import Request
from ..responses import Response
from ..routing import PathParam
from ..types import Message, Scope, Send
from .dependant import ASYNC, ASYNC_GEN, SYNC, Dependant, compile_dependant
from .extract import check_json_content_type, run_extractors
from .model import HandlerError, qualname
from .validation import validation_error

__all__ = [
    "AppContainer",
    "Dependant",
    "DependencyScope",
    "Injector",
    "Solver",
    "compile_dependant",
]

logger = logging.getLogger("brace")

# -- resolution --------------------------------------------------------------------------------


_DONE: Any = object()


def _advance(gen: Generator[Any, None, None], exc: BaseException | None) -> Any:
    """One step of a sync generator dependency (in a worker thread): its next value, or
    `_DONE` when it finished (StopIteration cannot cross into a future)."""
    try:
        return next(gen) if exc is None else gen.throw(exc)
    except StopIteration:
        return _DONE


async def _call(dependant: Dependant, kwargs: dict[str, Any], exits: list[Any]) -> Any:
    """Call a dependency by its kind. Plain `def` dependencies (and the code of sync
    generators) run in a worker thread, like plain `def` handlers: they may block."""
    kind = dependant.kind
    fn = dependant.fn
    if kind == ASYNC:
        return await fn(**kwargs)
    if kind == SYNC:
        return await asyncio.to_thread(fn, **kwargs)
    if kind == ASYNC_GEN:
        agen: AsyncGenerator[Any, None] = fn(**kwargs)
        try:
            value = await agen.__anext__()
        except StopAsyncIteration:
            raise HandlerError(f"dependency {qualname(fn)} did not yield a value") from None
        exits.append(agen)
        return value
    gen: Generator[Any, None, None] = fn(**kwargs)
    value = await asyncio.to_thread(_advance, gen, None)
    if value is _DONE:
        raise HandlerError(f"dependency {qualname(fn)} did not yield a value")
    exits.append(gen)
    return value


async def close_generators(exits: list[Any], exc: BaseException | None) -> None:
    """Run the code after `yield` of every generator dependency, last opened first."""
    while exits:
        gen = exits.pop()
        try:
            if isinstance(gen, AsyncGenerator):
                if exc is None:
                    await gen.__anext__()
                else:
                    await gen.athrow(exc)
            elif await asyncio.to_thread(_advance, gen, exc) is _DONE:
                continue
        except StopAsyncIteration:
            continue
        except BaseException as error:
            if error is exc:
                continue  # the dependency let the handler's error through: expected
            logger.error(
                "Error while closing dependency %s",
                getattr(gen, "__qualname__", gen),
                exc_info=error,
            )
            continue
        else:
            logger.error("Dependency %s yielded more than once", getattr(gen, "__qualname__", gen))


class AppContainer:
    """Values of app-scoped dependencies: created once, closed at shutdown."""

    def __init__(self) -> None:
        self.values: dict[Callable[..., Any], Any] = {}
        self.exits: list[Any] = []
        self._lock = asyncio.Lock()

    async def get(self, dependant: Dependant, injector: Injector) -> Any:
        fn = dependant.fn
        if fn in self.values:
            return self.values[fn]
        async with self._lock:
            return await self._create(dependant, injector)

    async def _create(self, dependant: Dependant, injector: Injector) -> Any:
        fn = dependant.fn
        if fn in self.values:
            return self.values[fn]
        kwargs: dict[str, Any] = {}
        for name, marker, sub in dependant.subs:
            sub = injector.resolve_override(sub, marker, {}, "")
            value = await self._create(sub, injector)
            if name is not None:
                kwargs[name] = value
        value = await _call(dependant, kwargs, self.exits)
        self.values[fn] = value
        return value

    async def close(self) -> None:
        await close_generators(self.exits, None)
        self.values.clear()


class Injector:
    """An app's dependency state: overrides, the app-scoped container, compiled overrides."""

    def __init__(self) -> None:
        self.overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.container = AppContainer()
        self.app_scoped: list[Dependant] = []
        # Every dependency function and where it is used (the debug blocking detector).
        self.functions: dict[Callable[..., Any], str] = {}
        self._compiled_overrides: dict[tuple[Any, str], Dependant] = {}

    def resolve_override(
        self,
        dependant: Dependant,
        marker: Depends,
        path_params: Mapping[str, PathParam],
        path: str,
    ) -> Dependant:
        """The dependant to use for `marker`: an override if one is set (tests), else its own."""
        replacement = self.overrides.get(marker.dependency)
        if replacement is None:
            return dependant
        key = (replacement, path)
        compiled = self._compiled_overrides.get(key)
        if compiled is None:
            params = path_params if marker.scope != "app" else {}
            compiled = compile_dependant(replacement, params, path)
            self._compiled_overrides[key] = compiled
        return compiled

    async def start(self) -> None:
        for dependant in self.app_scoped:
            await self.container.get(dependant, self)

    async def stop(self) -> None:
        await self.container.close()

    def scope(self) -> DependencyScope:
        return DependencyScope(self)


class ResponseParameter(Response):
    """What a `response: Response` parameter receives: headers, cookies and a status that
    brace adds to whatever the handler returns (plain data, not a Response)."""

    def __init__(self) -> None:
        super().__init__(None, status_code=0)  # 0: the route's status is kept

    def _sends_length(self) -> bool:
        return False

    def apply(self, scope: Scope, send: Send) -> Send:
        """A `send` that merges these headers, cookies and status into the response start."""
        extra = self._final_headers(scope)
        status = self.status_code

        async def merged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "status": status or message["status"],
                    "headers": [*message.get("headers", ()), *extra],
                }
            await send(message)

        return merged


class Solver:
    """One request's resolution state: cache, generator exits and collected errors."""

    __slots__ = (
        "cache",
        "errors",
        "exits",
        "handler_exits",
        "injector",
        "path",
        "path_params",
        "request",
        "response",
        "values",
    )

    def __init__(
        self,
        request: HTTPConnection | None,
        values: Sequence[Any],
        injector: Injector,
        path_params: Mapping[str, PathParam],
        path: str,
    ) -> None:
        self.request = request
        self.values = values
        self.cache: dict[Callable[..., Any], Any] = {}
        self.exits: list[Any] = []
        self.handler_exits: list[Any] = []  # scope="handler": closed before the response
        self.errors: list[dict[str, Any]] = []
        self.injector = injector
        self.path_params = path_params
        self.path = path
        self.response: ResponseParameter | None = None

    async def arguments(self, dependant: Dependant) -> dict[str, Any]:
        """The keyword arguments for `dependant`, resolving its dependencies first."""
        kwargs: dict[str, Any] = {}
        errors = self.errors
        request = self.request
        for name, marker, sub in dependant.subs:
            value = await self.value(marker, sub)
            if name is not None:
                kwargs[name] = value
        if dependant.needs_request:
            if request is None:
                raise HandlerError(
                    f"{qualname(dependant.fn)} reads the request but is resolved outside one"
                )
            run_extractors(dependant.plain, request, self.values, kwargs, errors)
            # Bodies exist on HTTP requests only: WebSocket plans refuse them at start-up.
            if dependant.body_reader is not None:
                body_request = cast(Request, request)
                check_json_content_type(body_request)
                dependant.body_reader.read(await body_request.body(), kwargs, errors)
            if dependant.form_reader is not None:
                form_request = cast(Request, request)
                form = await form_request.form()
                dependant.form_reader.read(form, kwargs, errors, form_request.method)
        for spec in dependant.specs:
            if spec.source == "request":
                kwargs[spec.name] = request
            elif spec.source == "response":
                if self.response is None:
                    self.response = ResponseParameter()
                kwargs[spec.name] = self.response
        return kwargs

    async def value(self, marker: Depends, dependant: Dependant) -> Any:
        injector = self.injector
        if injector.overrides:
            dependant = injector.resolve_override(dependant, marker, self.path_params, self.path)
        if marker.scope == "app":
            return await injector.container.get(dependant, injector)
        fn = dependant.fn
        if marker.use_cache and fn in self.cache:
            return self.cache[fn]
        kwargs = await self.arguments(dependant)
        if self.errors:
            return None  # the request is invalid: report it instead of calling the dependency
        exits = self.handler_exits if marker.scope == "handler" else self.exits
        value = await _call(dependant, kwargs, exits)
        if marker.use_cache:
            self.cache[fn] = value
        return value

    def raise_for_errors(self) -> None:
        if self.errors:
            raise validation_error(self.errors)

    async def finish_handler(self) -> None:
        """The handler succeeded: run the code after `yield` of scope="handler" dependencies
        (a commit, say) before the response goes out; an error there becomes the response."""
        exits = self.handler_exits
        while exits:
            gen = exits.pop()
            try:
                if isinstance(gen, AsyncGenerator):
                    await gen.__anext__()
                elif await asyncio.to_thread(_advance, gen, None) is _DONE:
                    continue
            except StopAsyncIteration:
                continue
            except BaseException as error:
                await close_generators(exits, error)  # the others see it as a handler error
                raise
            logger.error("Dependency %s yielded more than once", getattr(gen, "__qualname__", gen))

    async def close(self, exc: BaseException | None) -> None:
        await close_generators(self.handler_exits, exc)
        await close_generators(self.exits, exc)


class DependencyScope:
    """Resolve dependencies outside a request: `async with app.scope() as scope:`."""

    def __init__(self, injector: Injector) -> None:
        self._solver = Solver(None, (), injector, {}, "")

    async def resolve(self, fn: Callable[..., Any]) -> Any:
        """The value `fn` produces, with its dependencies resolved (cached in this scope)."""
        dependant = compile_dependant(fn, {}, "")
        value = await self._solver.value(Depends(fn), dependant)
        self._solver.raise_for_errors()
        return value

    async def __aenter__(self) -> DependencyScope:
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        await self._solver.close(exc)

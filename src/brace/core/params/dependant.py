"""The one compiled model of a callable's parameters, for handlers and dependencies alike.

`compile_dependant` reads a signature once (`inspect_callable`), prepares an extractor per
path, query, header and cookie parameter, a reader for the JSON body or the form, and,
recursively, the same for every `Depends(...)` it declares. A handler plan resolves the tree
per request (`dependencies.Solver`), or, when there are no dependencies, runs one of the
specialised builders made from the same model (`builders`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..markers import Depends
from ..routing import PathParam
from .extract import BodyReader, Plain, check_one_body, extractor
from .formreader import FormReader
from .model import HandlerError, ParamSpec, inspect_callable, qualname, type_tag

__all__ = ["ASYNC", "ASYNC_GEN", "SYNC", "SYNC_GEN", "Dependant", "compile_dependant", "kind_of"]

ASYNC, SYNC, ASYNC_GEN, SYNC_GEN = "async", "sync", "async_gen", "sync_gen"


def kind_of(fn: Callable[..., Any]) -> str:
    target = inspect.unwrap(fn)
    if inspect.isasyncgenfunction(target):
        return ASYNC_GEN
    if inspect.isgeneratorfunction(target):
        return SYNC_GEN
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - async callable objects
    ):
        return ASYNC
    return SYNC


class Dependant:
    """A callable whose parameters brace knows how to fill, with its own dependencies."""

    __slots__ = (
        "body_reader",
        "fn",
        "form_reader",
        "kind",
        "needs_request",
        "plain",
        "reads_response",
        "specs",
        "subs",
    )

    def __init__(
        self,
        fn: Callable[..., Any],
        specs: list[ParamSpec],
        path_params: Mapping[str, PathParam],
        subs: list[tuple[str | None, Depends, Dependant]],
        where: str,
        tag: str | None = None,
    ) -> None:
        self.fn = fn
        self.kind = kind_of(fn)
        self.specs = specs
        names = list(path_params)
        path_index = {name: i for i, name in enumerate(names)}
        path_types = {name: p.converter.python_type for name, p in path_params.items()}
        self.plain: Plain = [
            (s.name, s.location, s.many, extractor(s, path_index, path_types))
            for s in specs
            if s.source not in ("body", "form", "depends", "response")
        ]
        bodies = [s for s in specs if s.source == "body"]
        forms = [s for s in specs if s.source == "form"]
        check_one_body(bodies, forms, where)
        tag = tag or type_tag(where).replace(" ", "_")  # names generated body types
        self.body_reader = BodyReader(bodies, tag) if bodies else None
        self.form_reader = FormReader(forms, tag) if forms else None
        self.subs = subs
        self.needs_request = (
            bool(self.plain) or self.body_reader is not None or self.form_reader is not None
        )
        self.reads_response = any(s.source == "response" for s in specs)


def compile_dependant(
    fn: Callable[..., Any],
    path_params: Mapping[str, PathParam],
    path: str,
    extra: Sequence[Depends] = (),
    stack: tuple[Callable[..., Any], ...] = (),
    where: str | None = None,
    tag: str | None = None,
) -> Dependant:
    """Compile `fn` and, recursively, every dependency it declares; cycles fail loudly.
    `extra`: dependencies declared beside it (a route's, a router's), run first."""
    where = where or f"dependency {qualname(fn)}"
    if fn in stack:
        chain = " -> ".join(qualname(f) for f in (*stack, fn))
        raise HandlerError(f"dependency cycle: {chain}")
    specs = inspect_callable(fn, where, dict(path_params), path)
    subs: list[tuple[str | None, Depends, Dependant]] = []
    for marker in extra:
        subs.append((None, marker, _compile_marker(marker, path_params, path, (*stack, fn))))
    for spec in specs:
        if spec.dependency is not None:
            marker = spec.dependency
            subs.append(
                (spec.name, marker, _compile_marker(marker, path_params, path, (*stack, fn)))
            )
    return Dependant(fn, specs, path_params, subs, where, tag)


def _compile_marker(
    marker: Depends,
    path_params: Mapping[str, PathParam],
    path: str,
    stack: tuple[Callable[..., Any], ...],
) -> Dependant:
    if marker.scope == "app":
        dependant = compile_dependant(marker.dependency, {}, "", (), stack)
        check_app_scoped(dependant)
        return dependant
    return compile_dependant(marker.dependency, path_params, path, (), stack)


def check_app_scoped(dependant: Dependant) -> None:
    """App-scoped values outlive requests: they may only use other app-scoped values."""
    where = qualname(dependant.fn)
    if dependant.needs_request or any(s.source == "request" for s in dependant.specs):
        raise HandlerError(
            f"dependency {where} has scope='app' but reads the request; "
            "app-scoped dependencies may only depend on other app-scoped dependencies"
        )
    for _, marker, _sub in dependant.subs:
        if marker.scope != "app":
            raise HandlerError(
                f"dependency {where} has scope='app' but depends on the request-scoped "
                f"{qualname(marker.dependency)}"
            )

"""Fast paths: for a handler without dependencies, its compiled `Dependant` becomes one
function producing the handler's keyword arguments, specialised for what it reads.

They are the same engine as the dependency solver (same extractors, same body and form
readers, the same `pick` rule for query values), minus the tree walk: a handler that reads
only path values gets a dict comprehension, one that reads path and query values never
builds a Request, and only handlers that read a body await anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from ..connection import query_pairs
from ..requests import Request
from ..routing import Route
from ..scope import PATH_VALUES
from ..types import Receive, Scope
from .dependant import Dependant
from .extract import (
    Missing,
    check_json_content_type,
    converter,
    extractor,
    pick,
    record_error,
    run_extractors,
)
from .validation import validation_error

__all__ = ["AsyncBuilder", "SyncBuilder", "specialise"]

SyncBuilder = Callable[[Scope, Receive, Sequence[Any]], dict[str, Any]]
AsyncBuilder = Callable[[Scope, Receive, Sequence[Any]], Awaitable[dict[str, Any]]]
Builders = tuple[SyncBuilder | None, AsyncBuilder | None]


def specialise(dependant: Dependant, route: Route) -> Builders:
    """The function producing the handler's keyword arguments: a plain function when
    nothing needs awaiting, a coroutine function when a body must be read; (None, None)
    when the handler takes no parameters. Only for dependants with no dependencies."""
    specs = dependant.specs
    if not specs:
        return None, None
    param_names = route.param_names
    path_types = {p.name: p.converter.python_type for p in route.params}
    if all(
        s.source == "path" and (s.annotation is path_types[s.key] or s.annotation is Any)
        for s in specs
    ):
        index = {name: i for i, name in enumerate(param_names)}
        names = [(s.name, index[s.key]) for s in specs]

        def path_only(scope: Scope, receive: Receive, values: Sequence[Any]) -> dict[str, Any]:
            return {name: values[i] for name, i in names}

        return path_only, None
    if all(s.source in ("path", "query") for s in specs):
        return _path_and_query(dependant, route), None
    return _with_request(dependant, param_names)


def _with_request(dependant: Dependant, param_names: tuple[str, ...]) -> Builders:
    plain = dependant.plain

    def extract(request: Request, values: Sequence[Any]) -> tuple[dict[str, Any], list[Any]]:
        if param_names:
            request.scope[PATH_VALUES] = (param_names, values)
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        run_extractors(plain, request, values, kwargs, errors)
        return kwargs, errors

    form_reader = dependant.form_reader
    if form_reader is not None:

        async def build_with_form(
            scope: Scope, receive: Receive, values: Sequence[Any]
        ) -> dict[str, Any]:
            request = Request(scope, receive)
            kwargs, errors = extract(request, values)
            form_reader.read(await request.form(), kwargs, errors, scope["method"])
            if errors:
                raise validation_error(errors)
            return kwargs

        return None, build_with_form

    body_reader = dependant.body_reader
    if body_reader is None:

        def build(scope: Scope, receive: Receive, values: Sequence[Any]) -> dict[str, Any]:
            kwargs, errors = extract(Request(scope, receive), values)
            if errors:
                raise validation_error(errors)
            return kwargs

        return build, None

    async def build_with_body(
        scope: Scope, receive: Receive, values: Sequence[Any]
    ) -> dict[str, Any]:
        request = Request(scope, receive)
        kwargs, errors = extract(request, values)
        check_json_content_type(request)
        body_reader.read(await request.body(), kwargs, errors)
        if errors:
            raise validation_error(errors)
        return kwargs

    return None, build_with_body


def _path_and_query(dependant: Dependant, route: Route) -> SyncBuilder:
    """The common typed-GET case: only path and query values, read straight from the scope
    without building a Request (the hottest path of typed APIs)."""
    index = {name: i for i, name in enumerate(route.param_names)}
    path_types = {p.name: p.converter.python_type for p in route.params}
    specs = dependant.specs
    query_steps = [
        (s.name, s.location, s.key, s.many, converter(s), s.default, s.required)
        for s in specs
        if s.source == "query"
    ]
    path_steps = [
        (s.name, s.location, extractor(s, index, path_types)) for s in specs if s.source == "path"
    ]

    def build(scope: Scope, receive: Receive, values: Sequence[Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] | None = None
        for name, location, extract in path_steps:
            try:
                kwargs[name] = extract(None, values)  # type: ignore[arg-type]
            except msgspec.ValidationError as exc:
                errors = [] if errors is None else errors
                record_error(errors, location, False, exc)
        raw_query = scope.get("query_string")
        pairs = query_pairs(raw_query) if raw_query else []
        query = dict(pairs) if pairs else {}
        for name, location, key, many, convert, default, required in query_steps:
            raw = [v for k, v in pairs if k == key] if many else query.get(key)
            if raw is not None and convert is None and not many:
                kwargs[name] = raw  # the common case, a plain str: nothing to decide
                continue
            try:
                kwargs[name] = pick(raw, many, required, default, convert)
            except (msgspec.ValidationError, Missing) as exc:
                errors = [] if errors is None else errors
                record_error(errors, location, many, exc)
        if errors:
            raise validation_error(errors)
        return kwargs

    return build

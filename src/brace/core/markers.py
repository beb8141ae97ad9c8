"""Parameter markers: say where a handler parameter comes from and how it is constrained.

Used inside `Annotated`: `limit: Annotated[int, Query(ge=1, le=100)] = 10`. Without a marker,
brace infers the source (path name → path, scalar → query, model → JSON body).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import msgspec

from .ecma_pattern import PATTERN_AS_WRITTEN, python_pattern

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Param", "Path", "Query"]


class Param:
    """Common options of every parameter source."""

    source: ClassVar[str] = ""

    def __init__(
        self,
        *,
        alias: str | None = None,
        description: str | None = None,
        examples: Sequence[Any] | None = None,
        deprecated: bool = False,
        include_in_schema: bool = True,
        ge: float | None = None,
        gt: float | None = None,
        le: float | None = None,
        lt: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
    ) -> None:
        self.alias = alias
        self.description = description
        self.examples = list(examples) if examples is not None else None
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.constraints: dict[str, Any] = {
            key: value
            for key, value in (
                ("ge", ge),
                ("gt", gt),
                ("le", le),
                ("lt", lt),
                ("multiple_of", multiple_of),
                ("min_length", min_length),
                ("max_length", max_length),
                ("pattern", pattern),
            )
            if value is not None
        }

    def meta(self) -> msgspec.Meta | None:
        """The msgspec constraint object for these options, or None when there are none."""
        if not self.constraints and self.description is None and self.examples is None:
            return None
        constraints = dict(self.constraints)
        extra: dict[str, Any] | None = None
        pattern = constraints.get("pattern")
        if pattern is not None and python_pattern(pattern) != pattern:
            # Published as written (ECMA-262), validated as ECMA-262 means it.
            constraints["pattern"] = python_pattern(pattern)
            extra = {PATTERN_AS_WRITTEN: pattern}
        return msgspec.Meta(
            **constraints,
            description=self.description,
            examples=self.examples,
            extra_json_schema=extra,
        )

    def __repr__(self) -> str:
        options = {"alias": self.alias, **self.constraints}
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items() if v is not None)
        return f"{type(self).__name__}({shown})"


class Query(Param):
    """From the query string: `?name=value` (repeat the key for list types)."""

    source = "query"


class Path(Param):
    """From a `{name}` segment of the route path."""

    source = "path"


class Header(Param):
    """From a request header; `x_token` reads `X-Token` unless `convert_underscores=False`."""

    source = "header"

    def __init__(self, *, convert_underscores: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    """From a request cookie."""

    source = "cookie"


class Body(Param):
    """From the JSON request body; `embed=True` reads the key named like the parameter."""

    source = "body"

    def __init__(self, *, embed: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.embed = embed


class Form(Param):
    """From the submitted form (urlencoded or multipart): one field, or a whole model whose
    fields are the form's fields (`entry: Annotated[Entry, Form()]`)."""

    source = "form"


class File(Form):
    """An uploaded file of a multipart form (`UploadFile` parameters need no marker)."""


class Depends:
    """A value computed by another function: sync, async, or a generator whose code after
    `yield` runs once the response has been sent (also when the handler failed).

    `scope="handler"` runs the code after `yield` as soon as the handler returns, before the
    response is sent, so that its failure (a database commit) becomes the response;
    `scope="app"` creates the value once at start-up and closes it at shutdown."""

    def __init__(
        self,
        dependency: Callable[..., Any],
        *,
        use_cache: bool = True,
        scope: Literal["request", "handler", "app"] = "request",
    ) -> None:
        if scope not in ("request", "handler", "app"):
            raise ValueError("Depends(scope=...) must be 'request', 'handler' or 'app'")
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", repr(self.dependency))
        return f"Depends({name}, scope={self.scope!r})"

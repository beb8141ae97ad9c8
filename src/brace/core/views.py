"""Class-based views: one class, one method per HTTP verb, guards declared once.

    class ArticleView(View):
        dependencies = [login_required]           # every method of the view

        async def get(self, id: int) -> Article: ...
        async def put(self, id: int, data: ArticleIn, session: DB) -> Article: ...

    app.add_view("/articles/{id:int}", ArticleView)

Each method is a handler like any other (typed parameters, dependencies, OpenAPI); a new
instance serves each request, so attributes set on `self` never leak between requests.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from .markers import Depends

__all__ = ["View", "endpoints_of"]

VERBS = ("get", "post", "put", "patch", "delete")


class View:
    """Base of class-based views: define `get`, `post`, `put`, `patch` or `delete`."""

    dependencies: ClassVar[Sequence[Depends]] = ()
    """Dependencies (guards) every method of the view runs, before its own."""


def endpoints_of(view: type[View]) -> list[tuple[str, Callable[..., Any]]]:
    """(HTTP method, handler) for each verb the view defines."""
    if not (isinstance(view, type) and issubclass(view, View)):
        raise TypeError(f"{view!r} is not a View class")
    found = [(verb.upper(), _endpoint(view, verb)) for verb in VERBS if hasattr(view, verb)]
    if not found:
        raise TypeError(f"{view.__name__} defines none of {', '.join(VERBS)}")
    return found


def _endpoint(view: type[View], verb: str) -> Callable[..., Any]:
    """A function with the method's signature minus `self`, calling it on a new instance."""
    method = getattr(view, verb)
    endpoint: Callable[..., Any]
    if inspect.iscoroutinefunction(method):

        async def call_async(**kwargs: Any) -> Any:
            return await method(view(), **kwargs)

        endpoint = call_async
    else:

        def call_sync(**kwargs: Any) -> Any:
            return method(view(), **kwargs)

        endpoint = call_sync
    functools.update_wrapper(endpoint, method)
    signature = inspect.signature(method)
    without_self = signature.replace(parameters=list(signature.parameters.values())[1:])
    endpoint.__signature__ = without_self  # type: ignore[union-attr]
    endpoint.__annotations__ = {
        k: v for k, v in getattr(method, "__annotations__", {}).items() if k != "self"
    }
    endpoint.__name__ = f"{view.__name__}.{verb}"
    return endpoint

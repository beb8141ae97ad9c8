"""`current_user` in templates: the request's user, looked up only if the page reads it.

`auth_views(templates)` adds `user_context` to those templates' context processors (add it to
others yourself: `Templates(..., context_processors=[user_context])`). The value is a stand-in
that loads the user the first time the template asks (`{% if current_user %}`,
`{{ current_user.email }}`): pages render inside the database's greenlet bridge, so the lookup
is an awaited query, and a page that never mentions the user costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.util import await_only

from ..core.requests import Request
from ..db import Database
from ._core import CURRENT_USER, SESSION_USER, current_user

__all__ = ["user_context"]

logger = logging.getLogger("brace.auth")
_UNSET: Any = object()


def user_context(request: Request) -> Mapping[str, Any]:
    """A context processor: `current_user` (the logged-in user, or a falsy stand-in)."""
    return {"current_user": _TemplateUser(request)}


class _TemplateUser:
    """Behaves as the user (attributes, truth, text) once looked up; falsy when anonymous."""

    __slots__ = ("_request", "_user")

    def __init__(self, request: Request) -> None:
        self._request = request
        self._user: Any = request.scope.get(CURRENT_USER, _UNSET)

    def _resolve(self) -> Any:
        if self._user is _UNSET:
            self._user = _look_up(self._request)
        return self._user

    def __bool__(self) -> bool:
        return self._resolve() is not None

    def __getattr__(self, name: str) -> Any:
        user = self._resolve()
        if user is None:
            raise AttributeError(name)  # Jinja: undefined, which renders as nothing
        return getattr(user, name)

    def __eq__(self, other: object) -> bool:
        user = self._resolve()
        return user is other or (user is not None and user == other)

    __hash__ = object.__hash__

    def __str__(self) -> str:
        user = self._resolve()
        return "" if user is None else str(user)


def _look_up(request: Request) -> Any:
    """The user, by the same rules as the `CurrentUser` dependency (sessions and tokens)."""
    in_session = "session" in request.scope and request.session.get(SESSION_USER) is not None
    if not in_session and not request.headers.get("authorization"):
        request.scope[CURRENT_USER] = None
        return None  # anonymous: no query
    try:
        return await_only(_load(request))
    except MissingGreenlet:
        logger.warning(
            "current_user in a template rendered outside the database bridge "
            "(render_string?): shown as anonymous; use templates.render()"
        )
        return None


async def _load(request: Request) -> Any:
    async with Database.of(request.app).session() as session:
        try:
            return await current_user(request, session)
        except Exception:  # an invalid bearer token: the page shows an anonymous visitor
            return None

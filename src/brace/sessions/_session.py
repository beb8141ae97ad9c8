"""The session object handlers see as `request.session`: a dict that knows it changed."""

from __future__ import annotations

import secrets
from typing import Any

from ..csrf import SESSION_KEY as CSRF_SESSION_KEY

__all__ = ["Session", "new_session_id"]


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


class Session(dict[str, Any]):
    """Session data; any change (or `rotate()`) makes the middleware send a fresh cookie."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        session_id: str | None = None,
        *,
        revocable: bool = False,
    ) -> None:
        super().__init__(data or {})
        self.id = session_id
        self.revocable = revocable
        """Whether clearing this session ends it for every copy of its cookie (server-side
        storage); a signed-cookie session is not: logging out must end it another way."""
        self.modified = False
        self.replaced_id: str | None = None

    def rotate(self) -> None:
        """Give the session a new id and keep its data (call it at login: it defeats session
        fixation, as the id an attacker may have planted stops working). The CSRF secret is
        renewed as well."""
        if self.id is not None and self.replaced_id is None:
            self.replaced_id = self.id
        self.id = new_session_id()
        super().pop(CSRF_SESSION_KEY, None)  # a new CSRF secret: tokens from before expire
        self.modified = True

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.modified = True

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.modified = True

    def clear(self) -> None:
        super().clear()
        self.modified = True

    def pop(self, key: str, *default: Any) -> Any:
        self.modified = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.modified = True
        return super().popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.modified = True

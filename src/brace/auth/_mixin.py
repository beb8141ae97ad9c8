"""`UserMixin`: the columns and behaviour of a user model, brace's `User` or your own.

Importing it defines no table: a project with its own user model (`class Member(UserMixin,
Model)`, `Auth(app, user_model=Member)`) gets none of brace's `auth_*` tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import UTCDateTime, utcnow

__all__ = ["UserMixin", "loaded_groups"]


class UserMixin:
    """The columns and behaviour every user model needs."""

    __brace_hidden__: ClassVar[tuple[str, ...]] = ("password_hash", "session_version")
    USERNAME_FIELD: ClassVar[str] = "email"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    """Moves on when the user logs out of a signed-cookie session (or everywhere): every
    session logged in before stops working."""
    is_active: Mapped[bool] = mapped_column(default=True)
    is_staff: Mapped[bool] = mapped_column(default=False)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_joined: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )

    def set_password(self, password: str) -> None:
        """Store an argon2id hash of `password` (check the rules first: `validate_password`).
        Hashing takes about 0.1 s of CPU on purpose: in a request, `await aset_password()`."""
        from ._passwords import hash_password

        self.password_hash = hash_password(password)

    async def aset_password(self, password: str) -> None:
        """`set_password` with the hashing in a worker thread: the event loop keeps serving
        other requests meanwhile (what brace's own views use)."""
        import asyncio

        from ._passwords import hash_password

        self.password_hash = await asyncio.to_thread(hash_password, password)

    def has_usable_password(self) -> bool:
        return self.password_hash.startswith("$argon2")

    def all_permissions(self) -> set[str]:
        """The user's own permissions and those of their groups (when loaded)."""
        found = set(self.permissions or ())
        for group in loaded_groups(self):
            found.update(group.permissions or ())
        return found

    def has_perm(self, *perms: str) -> bool:
        """Whether an active user holds every one of `perms` ("articles.edit"); superusers
        hold them all."""
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        held = self.all_permissions()
        return all(perm in held for perm in perms)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'id', None)!r} {self.email!r}>"


def loaded_groups(user: Any) -> list[Any]:
    # Only groups already loaded: async SQLAlchemy must not lazy-load inside a property.
    state = getattr(user, "_sa_instance_state", None)
    if state is None or "groups" not in getattr(state, "dict", {}):
        return []
    return list(state.dict["groups"] or ())

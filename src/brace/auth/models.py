"""The user model: brace's `User`, or your own built on `UserMixin`.

`User` lives in the `auth_user` table with its groups in `auth_group`. A project that needs
other fields subclasses nothing and declares its own model with `UserMixin` (from
`brace.auth`, which defines no table) and passes it as `Auth(user_model=...)`; importing this
module is what creates brace's tables, so a project with its own model never gets them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Model, UTCDateTime, utcnow
from ._mixin import UserMixin

__all__ = ["AccessToken", "Group", "User", "UserMixin"]


user_groups = Table(
    "auth_user_groups",
    Model.metadata,
    Column("user_id", ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
)


class Group(Model):
    """A named set of permissions users can belong to ("editors": ["articles.edit", ...])."""

    __tablename__ = "auth_group"

    name: Mapped[str] = mapped_column(String(150), unique=True)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)


class User(UserMixin, Model):
    """brace's user: email and password, flags, permissions and groups."""

    __tablename__ = "auth_user"

    groups: Mapped[list[Group]] = relationship(secondary=user_groups, lazy="raise")


class AccessToken(Model):
    """A revocable API token for brace's User. Only a SHA-256 of the token is stored."""

    __tablename__ = "auth_access_token"
    __brace_hidden__ = ("token_hash",)

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

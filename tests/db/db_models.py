"""Models shared by the database tests (table names are unique across the test suite)."""

import enum
import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brace.db import Model, Timestamps, UUIDPrimaryKey


class Status(enum.Enum):
    draft = "draft"
    published = "published"


class Product(Timestamps, Model):
    name: Mapped[str] = mapped_column(String(40), unique=True)
    price: Mapped[float]
    status: Mapped[Status] = mapped_column(default=Status.draft)
    note: Mapped[str | None]


class Author(Model):
    name: Mapped[str] = mapped_column(String(80))
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Model):
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(back_populates="books")


class ApiToken(UUIDPrimaryKey, Model):
    label: Mapped[str] = mapped_column(String(40))


__all__ = ["ApiToken", "Author", "Book", "Product", "Status", "uuid"]

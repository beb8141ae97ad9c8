"""The admin's change history: who added, changed or deleted what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Model, UTCDateTime, utcnow

__all__ = ["AdminLogEntry"]


class AdminLogEntry(Model):
    """One change made through the admin. The user is kept by id and label (not a foreign
    key), so history survives the user, and works with any user model."""

    __tablename__ = "admin_log_entry"

    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[str] = mapped_column(String(64))
    user_label: Mapped[str] = mapped_column(String(254))
    model: Mapped[str] = mapped_column(String(100), index=True)
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    object_repr: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(10))  # add, change, delete
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

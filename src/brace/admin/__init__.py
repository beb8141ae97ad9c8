"""brace.admin: a management interface over the database models, for staff users.

    admin = Admin(app)                       # after Database(app=...), Auth(app), sessions
    admin.register(Article, list_display=["id", "title", "published"], search_fields=["title"])

Screens: a dashboard, lists (pagination, sorting, search, filters, bulk delete), add and edit
forms generated from the columns with per-field validation, delete confirmations listing what
cascades, and a change history. Only active staff get in; each model needs the user's
`<table>.view/add/change/delete` permissions (superusers hold all). Server-rendered, usable
without JavaScript; templates can be overridden per project (same names under `admin/`).
"""

from __future__ import annotations

from ._history import AdminLogEntry
from ._options import ModelAdmin
from ._site import Admin

__all__ = ["Admin", "AdminLogEntry", "ModelAdmin"]

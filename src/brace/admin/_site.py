"""The admin site: registration, permissions, and the pages."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from sqlalchemy import Select, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import requires
from ..core.errors import HTTPError
from ..core.file_response import FileResponse
from ..core.requests import Request
from ..core.responses import RedirectResponse, Response
from ..core.routing import Router
from ..db import DB
from ..sessions import flash
from ..templating import Templates
from ._fields import KEEP, Field, FieldError
from ._history import AdminLogEntry
from ._options import LABEL_COLUMN, ModelAdmin

if TYPE_CHECKING:
    from ..core.app import App

__all__ = ["Admin"]

PACKAGE = Path(__file__).parent
MAX_SEARCH = 200
ACTIONS = ("view", "add", "change", "delete")
FOREIGN_MENU_LIMIT = 200
StaffUser = Annotated[Any, requires(staff=True)]


class Admin:
    """The admin of one app, mounted at `path` (default /admin)."""

    def __init__(
        self,
        app: App,
        *,
        path: str = "/admin",
        title: str = "Administration",
        templates: Templates | None = None,
    ) -> None:
        self.path = path
        self.title = title
        self.registry: dict[str, ModelAdmin] = {}
        self.templates = templates or Templates(PACKAGE / "templates")
        self.templates.add_fallback(PACKAGE / "templates")  # the project's own templates win
        self.register(
            AdminLogEntry,
            list_display=["at", "user_label", "model", "object_repr", "action"],
            search_fields=["object_repr", "user_label"],
            list_filter=["action", "model"],
            ordering=["-at"],
            form_fields=[],
        )
        app.include(self._router())

    def register(
        self, model: type[Any], admin_class: type[ModelAdmin] = ModelAdmin, **options: Any
    ) -> ModelAdmin:
        """Show `model` in the admin (options as on ModelAdmin)."""
        options_ = admin_class(model, **options)
        if options_.slug in self.registry:
            raise ValueError(f"{model.__name__} is already registered in the admin")
        self.registry[options_.slug] = options_
        return options_

    # -- helpers ----------------------------------------------------------------------------

    def _permitted(self, slug: str, user: Any, action: str) -> ModelAdmin:
        """The registered model at `slug`, if `user` may `action` it (else 404 or 403)."""
        entry = self.registry.get(slug)
        if entry is None:
            raise HTTPError(404, "No such model in the admin.")
        if not self._allowed(user, entry, action):
            raise HTTPError(403, f"You may not {action} {entry.name} records.")
        return entry

    @staticmethod
    def _allowed(user: Any, entry: ModelAdmin, action: str) -> bool:
        return bool(user.has_perm(entry.permission(action)))

    def _page(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        base = {"admin": self, "admin_path": request.scope.get("root_path", "") + self.path}
        return self.templates.render(request, f"admin/{name}", {**base, **context}, status=status)

    async def _get(self, session: AsyncSession, entry: ModelAdmin, key: str) -> Any:
        column = entry.table.columns[entry.pk]
        try:
            value = column.type.python_type(key)
        except (ValueError, TypeError, NotImplementedError):
            raise HTTPError(404, f"No such {entry.name}.") from None
        row = await session.get(entry.model, value)
        if row is None:
            raise HTTPError(404, f"No such {entry.name}.")
        return row

    # -- pages ---------------------------------------------------------------------------

    def _router(self) -> Router:
        """The admin's pages under `self.path`, for staff only (registered a few at a time)."""
        router = Router(prefix=self.path, dependencies=[requires(staff=True)], name="admin")
        self._add_home_routes(router)
        self._add_list_routes(router)
        self._add_add_routes(router)
        self._add_change_routes(router)
        self._add_delete_routes(router)
        self._add_history_route(router)
        return router

    def _add_home_routes(self, router: Router) -> None:
        """The admin's home page and its stylesheet."""

        @router.get("/", name="index", include_in_schema=False)
        async def index(request: Request, user: StaffUser, session: DB) -> Response:
            visible = [e for e in self.registry.values() if self._allowed(user, e, "view")]
            # Only the history of models this user may view.
            slugs = [e.slug for e in visible]
            recent = (
                list(
                    await session.scalars(
                        select(AdminLogEntry)
                        .where(AdminLogEntry.model.in_(slugs))
                        .order_by(AdminLogEntry.at.desc())
                        .limit(10)
                    )
                )
                if slugs
                else []
            )
            return self._page(request, "index.html", {"models": visible, "recent": recent})

        @router.get("/static/admin.css", name="css", include_in_schema=False)
        async def css() -> Response:
            response = FileResponse(PACKAGE / "static" / "admin.css")
            response.headers["cache-control"] = "public, max-age=3600"
            return response

    def _add_list_routes(self, router: Router) -> None:
        """A model's list page and the bulk deletion of rows picked on it."""

        @router.get("/{slug}/", name="list", include_in_schema=False)
        async def listing(request: Request, slug: str, user: StaffUser, session: DB) -> Response:
            entry = self._permitted(slug, user, "view")
            return await self._list(request, entry, session, user)

        @router.post("/{slug}/bulk-delete", name="bulk_delete", include_in_schema=False)
        async def bulk_delete(
            request: Request, slug: str, user: StaffUser, session: DB
        ) -> Response:
            entry = self._permitted(slug, user, "delete")
            form = await request.form()
            ids = [str(v) for v in form.getall("ids")][:500]
            rows = [row for key in ids if (row := await _maybe(self._get(session, entry, key)))]
            if form.get("confirm") != "yes":
                return self._page(request, "bulk_delete.html", {"entry": entry, "rows": rows})
            for row in rows:
                await self._log(session, user, entry, row, "delete", {})
                await session.delete(row)
            flash(request, f"Deleted {len(rows)} {entry.name} record(s).", "success")
            return RedirectResponse(f"{_root(request)}{self.path}/{slug}/", 303)

    def _add_add_routes(self, router: Router) -> None:
        """The form that adds a record, and its submission."""

        @router.get("/{slug}/add", name="add", include_in_schema=False)
        async def add_page(request: Request, slug: str, user: StaffUser, session: DB) -> Response:
            entry = self._permitted(slug, user, "add")
            values = {f.name: "" for f in entry.fields}
            return await self._form(request, session, entry, None, values, {}, user=user)

        @router.post("/{slug}/add", name="add_submit", include_in_schema=False)
        async def add(request: Request, slug: str, user: StaffUser, session: DB) -> Response:
            entry = self._permitted(slug, user, "add")
            submitted, parsed, errors = await _read_form(request, entry.editable_by(user))
            if not errors:
                row = entry.model(**parsed)
                session.add(row)
                if await _flush_or_error(session, errors):
                    changes = {k: [None, _text(v)] for k, v in parsed.items()}
                    await self._log(session, user, entry, row, "add", changes)
                    flash(request, f"Added {entry.name} {_label(row)}.", "success")
                    key = getattr(row, entry.pk)
                    return RedirectResponse(f"{_root(request)}{self.path}/{slug}/{key}/", 303)
            return await self._form(
                request, session, entry, None, submitted, errors, status=422, user=user
            )

    def _add_change_routes(self, router: Router) -> None:
        """The form that shows and changes a record, and its submission."""

        @router.get("/{slug}/{key}/", name="change", include_in_schema=False)
        async def change_page(
            request: Request, slug: str, key: str, user: StaffUser, session: DB
        ) -> Response:
            entry = self._permitted(slug, user, "view")
            row = await self._get(session, entry, key)
            values = {f.name: f.display(getattr(row, f.name)) for f in entry.fields}
            return await self._form(request, session, entry, row, values, {}, user=user)

        @router.post("/{slug}/{key}/", name="change_submit", include_in_schema=False)
        async def change(
            request: Request, slug: str, key: str, user: StaffUser, session: DB
        ) -> Response:
            entry = self._permitted(slug, user, "change")
            row = await self._get(session, entry, key)
            submitted, parsed, errors = await _read_form(request, entry.editable_by(user))
            if not errors:
                changes = {}
                for name, value in parsed.items():
                    old = getattr(row, name)
                    if old != value:
                        changes[name] = [_text(old), _text(value)]
                        setattr(row, name, value)
                if await _flush_or_error(session, errors):
                    if changes:
                        await self._log(session, user, entry, row, "change", changes)
                    flash(request, f"Saved {entry.name} {_label(row)}.", "success")
                    return RedirectResponse(f"{_root(request)}{self.path}/{slug}/", 303)
            return await self._form(
                request, session, entry, row, submitted, errors, status=422, user=user
            )

    def _add_delete_routes(self, router: Router) -> None:
        """The page that confirms deleting a record, and the deletion itself."""

        @router.get("/{slug}/{key}/delete", name="delete", include_in_schema=False)
        async def delete_page(
            request: Request, slug: str, key: str, user: StaffUser, session: DB
        ) -> Response:
            entry = self._permitted(slug, user, "delete")
            row = await self._get(session, entry, key)
            cascades = await _cascades(session, entry, row)
            return self._page(
                request,
                "delete.html",
                {"entry": entry, "row": row, "label": _label(row), "cascades": cascades},
            )

        @router.post("/{slug}/{key}/delete", name="delete_submit", include_in_schema=False)
        async def delete(
            request: Request, slug: str, key: str, user: StaffUser, session: DB
        ) -> Response:
            entry = self._permitted(slug, user, "delete")
            row = await self._get(session, entry, key)
            await self._log(session, user, entry, row, "delete", {})
            await session.delete(row)
            flash(request, f"Deleted {entry.name} {_label(row)}.", "success")
            return RedirectResponse(f"{_root(request)}{self.path}/{slug}/", 303)

    def _add_history_route(self, router: Router) -> None:
        """The log of what staff did to a record."""

        @router.get("/{slug}/{key}/history", name="history", include_in_schema=False)
        async def history(
            request: Request, slug: str, key: str, user: StaffUser, session: DB
        ) -> Response:
            entry = self._permitted(slug, user, "view")
            entries = list(
                await session.scalars(
                    select(AdminLogEntry)
                    .where(AdminLogEntry.model == entry.slug, AdminLogEntry.object_id == key[:64])
                    .order_by(AdminLogEntry.at.desc())
                    .limit(200)
                )
            )
            return self._page(
                request, "history.html", {"entry": entry, "key": key, "entries": entries}
            )

    async def _form(
        self,
        request: Request,
        session: AsyncSession,
        entry: ModelAdmin,
        row: Any,
        values: dict[str, Any],
        errors: dict[str, str],
        *,
        status: int = 200,
        user: Any = None,
    ) -> Response:
        fields = entry.editable_by(user)
        editable = {f.name for f in fields}
        shown = [*entry.readonly_fields, *(f.name for f in entry.fields if f.name not in editable)]
        readonly = {name: getattr(row, name) for name in shown} if row else {}
        can_change = row is None or (user is not None and self._allowed(user, entry, "change"))
        context = {
            "entry": entry,
            "fields": fields,
            "row": row,
            "values": values,
            "errors": errors,
            "readonly": readonly,
            "can_change": can_change,
            "key": getattr(row, entry.pk) if row is not None else None,
            "foreign": await self._foreign_choices(session, entry, user),
        }
        return self._page(request, "form.html", context, status=status)

    async def _foreign_choices(
        self, session: AsyncSession, entry: ModelAdmin, user: Any
    ) -> dict[str, Any]:
        """For each foreign-key field: the target's rows as menu choices when there are at most
        FOREIGN_MENU_LIMIT of them; otherwise where to search the target (a key is typed).
        Only for targets registered in the admin that `user` may view: anyone else types a
        key, and no row of a model they may not see is shown."""
        from ..db import Model

        found: dict[str, Any] = {}
        for field in entry.fields:
            if field.foreign_key is None:
                continue
            table_name, column_name = field.foreign_key.rsplit(".", 1)
            target = next(
                (
                    m.class_
                    for m in Model.registry.mappers
                    if getattr(m.local_table, "name", None) == table_name
                ),
                None,
            )
            if target is None:
                continue
            target_entry = next((e for e in self.registry.values() if e.model is target), None)
            if (
                target_entry is None
                or user is None
                or not self._allowed(user, target_entry, "view")
            ):
                continue
            count = int(await session.scalar(select(func.count()).select_from(target)) or 0)
            if count > FOREIGN_MENU_LIMIT:
                found[field.name] = {"search": target_entry.slug}
                continue
            column = getattr(target, column_name)
            rows = await session.scalars(select(target).order_by(column).limit(FOREIGN_MENU_LIMIT))
            found[field.name] = {
                "choices": [(str(getattr(r, column_name)), _label(r)) for r in rows]
            }
        return found

    async def _list(
        self, request: Request, entry: ModelAdmin, session: AsyncSession, user: Any
    ) -> Response:
        params = request.query_params
        statement: Select[Any] = select(entry.model)
        query = (params.get("q") or "")[:MAX_SEARCH]
        if query and entry.search_fields:
            pattern = (
                "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            columns = [entry.table.columns[name] for name in entry.search_fields]
            statement = statement.where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
        active: dict[str, str] = {}
        for field in entry.filters:
            raw = params.get(f"f_{field.name}")
            if raw in (None, ""):
                continue
            try:
                value = field.parse(raw)
            except FieldError:
                continue  # an impossible filter value filters nothing rather than failing
            active[field.name] = str(raw)
            column = entry.table.columns[field.name]
            statement = statement.where(column.is_(None) if value is None else column == value)
        order = params.get("o") or ""
        sort_column = order.lstrip("-")
        if sort_column in entry.list_display and sort_column != LABEL_COLUMN:
            column = entry.table.columns[sort_column]
            statement = statement.order_by(column.desc() if order.startswith("-") else column)
        else:
            order = ""
            for name in entry.ordering:
                column = entry.table.columns[name.lstrip("-")]
                statement = statement.order_by(column.desc() if name.startswith("-") else column)
        total = int(
            await session.scalar(
                select(func.count()).select_from(statement.order_by(None).subquery())
            )
            or 0
        )
        pages = max(1, math.ceil(total / entry.per_page))
        try:
            page = min(max(1, int(params.get("page") or 1)), pages)
        except ValueError:
            page = 1
        rows = list(
            await session.scalars(
                statement.limit(entry.per_page).offset((page - 1) * entry.per_page)
            )
        )
        filter_choices = {field.name: _filter_choices(field) for field in entry.filters}
        context = {
            "entry": entry,
            "rows": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "query": query,
            "order": order,
            "active": active,
            "filter_choices": filter_choices,
            "can_add": self._allowed(user, entry, "add"),
            "can_delete": self._allowed(user, entry, "delete"),
            "cell": _cell,
        }
        return self._page(request, "list.html", context)

    async def _log(
        self,
        session: AsyncSession,
        user: Any,
        entry: ModelAdmin,
        row: Any,
        action: str,
        changes: dict[str, Any],
    ) -> None:
        session.add(
            AdminLogEntry(
                user_id=str(user.id)[:64],
                user_label=str(getattr(user, "email", user.id))[:254],
                model=entry.slug,
                object_id=str(getattr(row, entry.pk))[:64],
                object_repr=_label(row)[:200],
                action=action,
                changes=changes,
            )
        )


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _cell(row: Any, name: str) -> Any:
    """A list column's value: the row's label for `__str__`, else the column."""
    return _label(row) if name == LABEL_COLUMN else getattr(row, name)


def _label(row: Any) -> str:
    """How a row is shown everywhere (lists, choices, confirmations, history): its model's
    own `__str__` when it has one, as in Django; else a title-like column; else its key."""
    for klass in type(row).__mro__:
        if klass is object:
            break
        if "__str__" in vars(klass):
            return str(row)
    for name in ("title", "name", "email", "label", "username"):
        value = getattr(row, name, None)
        if isinstance(value, str) and value:
            return value
    identity = inspect(row).identity
    return f"#{identity[0]}" if identity else "(new)"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)[:500]


async def _maybe(awaitable: Any) -> Any:
    try:
        return await awaitable
    except HTTPError:
        return None


async def _read_form(
    request: Request, fields: list[Field]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    form = await request.form()
    submitted: dict[str, Any] = {}
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        raw = form.get(field.name)
        text = raw if isinstance(raw, str) else None
        submitted[field.name] = text if field.kind != "checkbox" else text is not None
        try:
            value = field.parse(text)
        except FieldError as exc:
            errors[field.name] = str(exc)
            continue
        if value is not KEEP:
            parsed[field.name] = value
    return submitted, parsed, errors


async def _flush_or_error(session: AsyncSession, errors: dict[str, str]) -> bool:
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        errors["__all__"] = "This conflicts with an existing record (a duplicate value?)."
        return False
    return True


def _filter_choices(field: Field) -> list[tuple[str, str]]:
    if field.kind == "checkbox":
        return [("1", "Yes"), ("0", "No")]
    if field.kind == "select":
        return list(field.choices)
    return []


async def _cascades(session: AsyncSession, entry: ModelAdmin, row: Any) -> list[tuple[str, int]]:
    """Related records the ORM deletes along with `row` (relationships with delete cascade)."""
    found: list[tuple[str, int]] = []
    mapper: Any = inspect(entry.model)
    for relationship in mapper.relationships:
        if "delete" not in relationship.cascade:
            continue
        target = relationship.mapper.class_
        pairs = list(relationship.local_remote_pairs)
        if len(pairs) != 1:
            continue
        local, remote = pairs[0]
        count = await session.scalar(
            select(func.count()).select_from(target).where(remote == getattr(row, local.key))
        )
        if count:
            found.append((target.__name__, int(count)))
    return found

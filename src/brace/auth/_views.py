"""Login and logout pages, ready to include: `app.include(auth_views(templates))`.

Templates live in brace's package (`auth/login.html`, extending `auth/base.html`); a project
overrides them by putting files with the same names in its own template directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import jinja2
import msgspec

from ..db import DB
from ..forms import FormResult
from ..requests import Request
from ..responses import RedirectResponse, Response
from ..routing import Router
from ..sessions import flash
from ..templating import Templates
from ._core import authenticate, login, logout, safe_next

__all__ = ["PACKAGE_TEMPLATES", "LoginForm", "auth_views"]

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


class LoginForm(msgspec.Struct):
    account: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    next: str = "/"


def _with_package_templates(templates: Templates) -> Templates:
    """Let the project's own templates win, then fall back to brace's."""
    loader = templates.env.loader
    fallback = jinja2.FileSystemLoader(PACKAGE_TEMPLATES)
    if loader is None:
        templates.env.loader = fallback
    elif not (isinstance(loader, jinja2.ChoiceLoader) and fallback in loader.loaders):
        templates.env.loader = jinja2.ChoiceLoader([loader, fallback])
    return templates


def auth_views(
    templates: Templates | None = None, *, prefix: str = "/auth", after_login: str = "/"
) -> Router:
    """GET/POST `{prefix}/login` and POST `{prefix}/logout`, with brace's templates unless
    the project's `templates` override `auth/login.html`."""
    pages = _with_package_templates(templates or Templates(PACKAGE_TEMPLATES))
    router = Router(prefix=prefix, tags=["auth"])

    def page(request: Request, form: FormResult[LoginForm], next_url: str, status: int) -> Response:
        context = {"form": form, "next": next_url}
        return pages.render(request, "auth/login.html", context, status=status)

    @router.get("/login", name="brace_auth_login", include_in_schema=False)
    async def login_page(request: Request, next: str = after_login) -> Response:
        return page(request, FormResult.empty(), safe_next(next, after_login), 200)

    @router.post("/login", include_in_schema=False)
    async def login_submit(request: Request, form: FormResult[LoginForm], session: DB) -> Response:
        target = safe_next(form.get("next"), after_login)
        if form.value is None:
            return page(request, form, target, 422)
        user = await authenticate(request, session, form.value.account, form.value.password)
        if user is None:
            form.add_error("__all__", "Invalid email or password.")
            return page(request, form, target, 400)
        await login(request, user)
        return RedirectResponse(request.scope.get("root_path", "") + target, 303)

    @router.post("/logout", name="brace_auth_logout", include_in_schema=False)
    async def logout_submit(request: Request) -> Response:
        await logout(request)
        flash(request, "You have been logged out.", "info")
        return RedirectResponse(request.url_for("brace_auth_login"), 303)

    return router

"""Login and logout pages, ready to include: `app.include(auth_views(templates))`.

Templates live in brace's package (`auth/login.html`, extending `auth/base.html`); a project
overrides them by putting files with the same names in its own template directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.background import BackgroundTasks
from ..core.errors import HTTPError
from ..core.file_response import FileResponse
from ..core.requests import Request
from ..core.responses import RedirectResponse, Response
from ..core.routing import Router
from ..db import DB
from ..forms import FormResult
from ..mail import Message
from ..sessions import flash
from ..templating import Templates
from ._core import (
    Auth,
    authenticate,
    login,
    logout,
    normalize_email,
    revoke_access_tokens,
    safe_next,
    same_email,
)
from ._passwords import PasswordRejected, check_password_rules
from ._template_user import user_context
from .reset import PasswordResetTokens

__all__ = [
    "PACKAGE_TEMPLATES",
    "LoginForm",
    "NewPassword",
    "ResetForm",
    "SignupForm",
    "auth_views",
    "send_reset_link",
    "user_for_reset",
]

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
PACKAGE_STATIC = Path(__file__).parent / "static"


class LoginForm(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    next: str = "/"


class ResetForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]


class NewPassword(msgspec.Struct):
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    confirm: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


async def send_reset_link(
    request: Request, session: AsyncSession, email: str, tasks: BackgroundTasks | None = None
) -> None:
    """Email a reset link to the account with this address, if there is an active one.
    Nothing tells the caller whether there was: with `tasks`, the mail goes out after the
    response (a slow or broken mail server shows in the logs, not in the answer's timing)."""
    auth = Auth.of(request.app)
    model = auth.user_model
    user = await session.scalar(select(model).where(same_email(model.email, email)))
    if user is None or not user.is_active:
        return
    token = auth.reset_tokens.make(user)
    link = f"{str(request.base_url).rstrip('/')}{request.url_for('brace_auth_password_reset')}"
    body = (
        "Someone asked to reset the password of your account.\n\n"
        f"Choose a new password here (the link works once, for "
        f"{auth.reset_max_age // 60} minutes):\n{link}/{token}\n\n"
        "If it was not you, ignore this email: your password stays as it is.\n"
    )
    message = Message(to=[user.email], subject="Reset your password", body=body)
    if tasks is None:
        await auth.mailer.send(message)
    else:
        tasks.add(auth.mailer.send, message)


async def user_for_reset(request: Request, session: AsyncSession, token: str) -> Any:
    """The user a reset token is valid for, or None (forged, expired, or already used)."""
    auth = Auth.of(request.app)
    user = await auth.load_user(session, PasswordResetTokens.user_id(token))
    if user is None or not user.is_active or not auth.reset_tokens.check(user, token):
        return None
    return user


# An address people actually have: letters, digits and the few symbols mail systems accept in
# the local part (no quotes, brackets, angle brackets or spaces), then a dotted domain.
EMAIL_PATTERN = r"^[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]+(\.[\w-]+)+$"


class SignupForm(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    confirm: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    next: str = "/"


def _add_signup(router: Router, pages: Templates, after_login: str) -> None:
    def page(request: Request, form: FormResult[SignupForm], status: int) -> Response:
        target = safe_next(form.get("next"), after_login)
        return pages.render(
            request, "auth/signup.html", {"form": form, "next": target}, status=status
        )

    @router.get("/signup", name="brace_auth_signup", include_in_schema=False)
    async def signup_page(request: Request) -> Response:
        return page(request, FormResult.empty(), 200)

    @router.post("/signup", include_in_schema=False)
    async def signup_submit(
        request: Request, form: FormResult[SignupForm], session: DB
    ) -> Response:
        auth = Auth.of(request.app)
        model = auth.user_model
        value = form.value
        if value is not None:
            email = normalize_email(value.email)
            if value.password != value.confirm:
                form.add_error("confirm", "The two passwords differ.")
            try:
                check_password_rules(value.password, user_inputs=(email,))
            except PasswordRejected as exc:
                form.add_error("password", str(exc))
            taken = await session.scalar(select(model.id).where(same_email(model.email, email)))
            if taken is not None:
                form.add_error("email", "An account with this email already exists.")
        if value is None or not form.ok:
            return page(request, form, 422)
        user = model(email=normalize_email(value.email))
        await user.aset_password(value.password)
        session.add(user)
        await session.flush()
        await login(request, user)
        target = safe_next(value.next, after_login)
        return RedirectResponse(request.scope.get("root_path", "") + target, 303)


def auth_views(
    templates: Templates | None = None,
    *,
    prefix: str = "/auth",
    after_login: str = "/",
    signup: bool = False,
) -> Router:
    """GET/POST `{prefix}/login`, POST `{prefix}/logout`, the password-reset pages and, with
    `signup=True`, GET/POST `{prefix}/signup`; brace's templates unless the project's
    `templates` override them (same names under `auth/`). Every page of `templates` gets
    `current_user` (see `user_context`)."""
    pages = templates or Templates(PACKAGE_TEMPLATES)
    pages.add_fallback(PACKAGE_TEMPLATES)  # the project's own templates win
    if user_context not in pages.context_processors:
        pages.context_processors.append(user_context)  # `current_user` on every page
    router = Router(prefix=prefix, tags=["auth"])
    _add_stylesheet(router)
    _add_login(router, pages, after_login)
    _add_reset_request(router, pages)
    _add_reset_confirm(router, pages)
    if signup:
        _add_signup(router, pages, after_login)
    _add_logout(router)
    return router


def _add_stylesheet(router: Router) -> None:
    """The stylesheet the auth pages link to."""

    @router.get("/static/auth.css", name="brace_auth_css", include_in_schema=False)
    async def stylesheet() -> Response:
        # A file, not an inline <style>: pages stay valid under a `style-src 'self'` CSP.
        response = FileResponse(PACKAGE_STATIC / "auth.css")
        response.headers["cache-control"] = "public, max-age=3600"
        return response


def _add_login(router: Router, pages: Templates, after_login: str) -> None:
    """The login page and its submission, which sends people on to a safe `next`."""

    def page(request: Request, form: FormResult[LoginForm], next_url: str, status: int) -> Response:
        field = Auth.of(request.app).user_model.USERNAME_FIELD
        context = {
            "form": form,
            "next": next_url,
            # What people log in with: an email, or the user model's USERNAME_FIELD.
            "login_label": "Email" if field == "email" else field.replace("_", " ").capitalize(),
            "login_type": "email" if field == "email" else "text",
        }
        return pages.render(request, "auth/login.html", context, status=status)

    @router.get("/login", name="brace_auth_login", include_in_schema=False)
    async def login_page(request: Request, next: str = after_login) -> Response:
        return page(request, FormResult.empty(), safe_next(next, after_login), 200)

    @router.post("/login", include_in_schema=False)
    async def login_submit(request: Request, form: FormResult[LoginForm], session: DB) -> Response:
        target = safe_next(form.get("next"), after_login)
        if form.value is None:
            return page(request, form, target, 422)
        user = await authenticate(request, session, form.value.username, form.value.password)
        if user is None:
            field = Auth.of(request.app).user_model.USERNAME_FIELD
            what = "email" if field == "email" else field.replace("_", " ")
            form.add_error("__all__", f"Invalid {what} or password.")
            return page(request, form, target, 400)
        await login(request, user)
        return RedirectResponse(request.scope.get("root_path", "") + target, 303)


def _add_reset_request(router: Router, pages: Templates) -> None:
    """The page that asks for an email address and sends it a password-reset link."""

    @router.get("/password-reset", name="brace_auth_password_reset", include_in_schema=False)
    async def reset_page(request: Request) -> Response:
        return _reset_page(request, FormResult.empty(), sent=False)

    def _reset_page(request: Request, form: FormResult[ResetForm], *, sent: bool) -> Response:
        auth = Auth.of(request.app)
        context = {"form": form, "sent": sent, "max_age_minutes": auth.reset_max_age // 60}
        return pages.render(
            request, "auth/password_reset.html", context, status=422 if form.error_list else 200
        )

    @router.post("/password-reset", include_in_schema=False)
    async def reset_request(
        request: Request, form: FormResult[ResetForm], session: DB, tasks: BackgroundTasks
    ) -> Response:
        if form.value is None:
            return _reset_page(request, form, sent=False)
        client = request.client[0] if request.client else None
        if not await Auth.of(request.app).reset_throttle.attempt(form.value.email, client):
            raise HTTPError(
                429, "Too many password-reset requests; try again later.", {"Retry-After": "900"}
            )
        await send_reset_link(request, session, form.value.email, tasks)
        # The same page whether or not the address has an account.
        return _reset_page(request, form, sent=True)


def _add_reset_confirm(router: Router, pages: Templates) -> None:
    """The page a reset link opens, where a new password replaces the old one."""

    @router.get("/password-reset/{token}", include_in_schema=False)
    async def reset_confirm_page(request: Request, token: str, session: DB) -> Response:
        user = await user_for_reset(request, session, token)
        return _confirm_page(request, FormResult.empty(), valid=user is not None)

    def _confirm_page(request: Request, form: FormResult[NewPassword], *, valid: bool) -> Response:
        status = 200 if valid and not form.error_list else (422 if valid else 400)
        context = {"form": form, "valid": valid}
        return pages.render(request, "auth/password_reset_confirm.html", context, status=status)

    @router.post("/password-reset/{token}", include_in_schema=False)
    async def reset_confirm(
        request: Request, token: str, form: FormResult[NewPassword], session: DB
    ) -> Response:
        user = await user_for_reset(request, session, token)
        if user is None:
            return _confirm_page(request, form, valid=False)
        if form.value is not None:
            if form.value.password != form.value.confirm:
                form.add_error("confirm", "The two passwords differ.")
            else:
                try:
                    check_password_rules(form.value.password, user_inputs=(user.email,))
                except PasswordRejected as exc:
                    form.add_error("password", str(exc))
        if not form.ok or form.value is None:
            return _confirm_page(request, form, valid=True)
        await user.aset_password(form.value.password)  # the token, and other sessions, stop working
        await revoke_access_tokens(session, user)  # and so do opaque bearer tokens
        flash(request, "Your password has been changed: log in with it.", "success")
        return RedirectResponse(request.url_for("brace_auth_login"), 303)


def _add_logout(router: Router) -> None:
    """Logging out, which only a POST does (a link cannot log anyone out)."""

    @router.post("/logout", name="brace_auth_logout", include_in_schema=False)
    async def logout_submit(request: Request) -> Response:
        await logout(request)
        flash(request, "You have been logged out.", "info")
        return RedirectResponse(request.url_for("brace_auth_login"), 303)

"""`brace createuser`: add a user (an administrator, usually) from the command line."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from ._app_loader import load_app

__all__ = ["createuser"]


@click.command()
@click.option("--email", default=None, help="The new user's email (their login name, usually).")
@click.option(
    "--username",
    default=None,
    help="The login name, for user models whose USERNAME_FIELD is not the email.",
)
@click.option("--superuser", is_flag=True, help="Every permission, and staff.")
@click.option("--staff", is_flag=True, help="May use staff-only pages (the admin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--app", "app_path", default=None, help="The app as module:attribute.")
def createuser(
    email: str | None,
    username: str | None,
    superuser: bool,
    staff: bool,
    password_stdin: bool,
    app_path: str | None,
) -> None:
    """Create a user in the app's database (tables must exist: run `brace db upgrade`)."""
    from ..auth import Auth, PasswordRejected, check_password_rules
    from ..db import Database

    app = load_app(app_path)
    try:
        auth = Auth.of(app)
        database = Database.of(app)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    field = auth.user_model.USERNAME_FIELD
    values = _login_values(field, email, username)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password_rules(password, user_inputs=tuple(str(v) for v in values.values()))
    except PasswordRejected as exc:
        raise click.ClickException(str(exc)) from None
    asyncio.run(_create(database, auth.user_model, field, values, password, superuser, staff))
    kind = "superuser" if superuser else "staff user" if staff else "user"
    click.echo(f"Created {kind} {values[field]}")


def _login_values(field: str, email: str | None, username: str | None) -> dict[str, str]:
    """The new user's login name (and email), asked for when not given, and checked."""
    from ..auth import normalize_email

    values: dict[str, str] = {}
    if field == "email":
        if username is not None:
            raise click.ClickException("this app's users log in with their email: use --email")
        email = email if email is not None else click.prompt("Email")
    else:
        username = username if username is not None else click.prompt(field.capitalize())
        username = username.strip()
        if not username or len(username) > 150 or any(ch.isspace() for ch in username):
            raise click.ClickException(
                f"{username!r} is not a {field}: 1-150 characters, no spaces"
            )
        values[field] = username
    if email is not None:
        email = normalize_email(email)
        if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email):
            raise click.ClickException(f"{email!r} is not an email address")
        values["email"] = email
    return values


async def _create(
    database: Any,
    model: Any,
    field: str,
    values: dict[str, str],
    password: str,
    superuser: bool,
    staff: bool,
) -> None:
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    from ..auth import same_email

    column = getattr(model, field)
    login = values[field]
    taken = same_email(column, login) if field == "email" else column == login
    try:
        async with database.session() as session:
            if await session.scalar(select(model).where(taken)):
                raise click.ClickException(f"a user with the {field} {login} already exists")
            user = model(**values, is_superuser=superuser, is_staff=staff or superuser)
            await user.aset_password(password)
            session.add(user)
            await session.commit()
    except IntegrityError as exc:
        said = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise click.ClickException(f"the user could not be saved: {said}") from None
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"cannot write to the database ({type(exc).__name__}); are the tables created? "
            "run `brace db upgrade`"
        ) from None
    finally:
        await database.dispose()

"""`brace createuser`: add a user (an administrator, usually) from the command line."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from ._app_loader import load_app

__all__ = ["createuser"]


@click.command()
@click.option("--email", prompt=True, help="The new user's email (their login name).")
@click.option("--superuser", is_flag=True, help="Every permission, and staff.")
@click.option("--staff", is_flag=True, help="May use staff-only pages (the admin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--app", "app_path", default=None, help="The app as module:attribute.")
def createuser(
    email: str, superuser: bool, staff: bool, password_stdin: bool, app_path: str | None
) -> None:
    """Create a user in the app's database (tables must exist: run `brace db upgrade`)."""
    from ..auth import Auth, PasswordRejected, check_password_rules, normalize_email
    from ..db import Database

    app = load_app(app_path)
    try:
        auth = Auth.of(app)
        database = Database.of(app)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    email = normalize_email(email)
    if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email):
        raise click.ClickException(f"{email!r} is not an email address")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password_rules(password, user_inputs=(email,))
    except PasswordRejected as exc:
        raise click.ClickException(str(exc)) from None
    asyncio.run(_create(database, auth.user_model, email, password, superuser, staff))
    kind = "superuser" if superuser else "staff user" if staff else "user"
    click.echo(f"Created {kind} {email}")


async def _create(
    database: Any, model: Any, email: str, password: str, superuser: bool, staff: bool
) -> None:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from ..auth import same_email

    try:
        async with database.session() as session:
            if await session.scalar(select(model).where(same_email(model.email, email))):
                raise click.ClickException(f"a user with the email {email} already exists")
            user = model(email=email, is_superuser=superuser, is_staff=staff or superuser)
            await user.aset_password(password)
            session.add(user)
            await session.commit()
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"cannot write to the database ({type(exc).__name__}); are the tables created? "
            "run `brace db upgrade`"
        ) from None
    finally:
        await database.dispose()

"""Find the app a command works on: `module:attribute`, from --app, BRACE_APP (the environment,
then `.env`), or `app:app`."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

__all__ = ["DEFAULT_APP", "AppNotFound", "app_spec", "load_app"]

DEFAULT_APP = "app:app"


class AppNotFound(click.ClickException):
    """The APP path does not lead to a brace App; the message says what was found instead."""


# A library the app needs that is not installed, and the extra that installs it.
EXTRA_FOR_MODULE = {
    "asyncpg": "postgres",
    "aiosqlite": "db",
    "sqlalchemy": "db",
    "alembic": "db",
    "greenlet": "db",
    "jinja2": "templates",
    "multipart": "forms",
    "python_multipart": "forms",
    "argon2": "auth",
    "jwt": "auth",
    "redis": "redis",
    "uvicorn": "server",
    "httpx": "testing",
    "pydantic": "pydantic",
}


def missing_extra(exc: ImportError) -> str | None:
    """One line for an app that imports a library an extra provides (None otherwise)."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_FOR_MODULE.get(top)
    if extra is not None and isinstance(exc, ModuleNotFoundError):
        return f'the app needs {top}, which is not installed: pip install "brace[{extra}]"'
    if 'pip install "brace[' in str(exc):
        return str(exc)  # brace's own message for a battery without its extra
    return None


def app_spec(path: str | None = None) -> str:
    """Which app: `path` when given, else BRACE_APP from the environment, else from `.env` in
    the current directory (read the way BRACE_ENV is), else `app:app`."""
    if path:
        return path
    from_environment = os.environ.get("BRACE_APP")
    if from_environment:
        return from_environment
    from ..config import read_env_file

    try:
        from_file = read_env_file(".env").get("BRACE_APP")
    except ValueError as exc:  # a malformed .env: its lines say what is wrong
        raise click.ClickException(str(exc)) from None
    return from_file or DEFAULT_APP


def load_app(path: str | None = None) -> Any:
    """Import `module:attribute` (the current directory is importable) and return the App."""
    from ..core.app import App

    spec = app_spec(path)
    module_name, _, attribute = spec.partition(":")
    attribute = attribute or "app"
    if not module_name:
        raise AppNotFound(f"{spec!r} is not an APP path: use module:attribute, like app:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if (message := missing_extra(exc)) is not None:
            raise AppNotFound(message) from None
        if not isinstance(exc, ModuleNotFoundError) or (
            exc.name != module_name.split(".")[0] and exc.name != module_name
        ):
            raise  # the module exists but imports something missing: show the real error
        raise AppNotFound(
            f"cannot import {module_name!r} (looked in {os.getcwd()}); pass --app module:attr "
            "or set BRACE_APP"
        ) from None
    found = getattr(module, attribute, None)
    if isinstance(found, App):
        return found
    apps = sorted(name for name, value in vars(module).items() if isinstance(value, App))
    hint = f"; found: {', '.join(apps)}" if apps else "; it defines no brace App"
    if found is None:
        raise AppNotFound(f"module {module_name!r} has no attribute {attribute!r}{hint}")
    raise AppNotFound(
        f"{module_name}:{attribute} is a {type(found).__name__}, not a brace App{hint}"
    )

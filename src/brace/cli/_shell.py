"""`brace shell`: a Python prompt with the app loaded, its start-up run, and `await` allowed.

The namespace holds `app`, the app's `settings` (when its module has a `Settings`), `db` and
an open `session` (when the app has a `Database`), `select` and `func`, every model class, and
the app module's own public names. Code runs
on one event loop that also ran the app's lifespan, so `await session.scalars(...)` and the
app's own async clients work at the prompt. Lines come from the terminal or from a pipe
(`echo 'print(await session.scalar(...))' | brace shell`).
"""

from __future__ import annotations

import ast
import asyncio
import code
import inspect
import sys
import types
from typing import Any

import click

from ..core.lifespan import LifespanDriver
from ._app_loader import app_spec, load_app

__all__ = ["shell"]

BANNER = "brace shell: app{extras} are loaded; top-level await works. Ctrl+D to leave."


@click.command()
@click.option("--app", "app_path", default=None, help="The app as module:attribute.")
def shell(app_path: str | None) -> None:
    """A Python prompt with the app loaded and started (top-level `await` works)."""
    spec = app_spec(app_path)
    app = load_app(spec)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    lifespan = LifespanDriver(app, {})
    try:
        try:
            loop.run_until_complete(lifespan.startup())
        except RuntimeError as exc:
            raise click.ClickException(f"the app failed to start: {exc}") from None
        namespace = loop.run_until_complete(_namespace(app, spec.partition(":")[0]))
        console = _AwaitingConsole(namespace, loop)
        extras = ", ".join(name for name in ("settings", "db", "session") if name in namespace)
        banner = BANNER.format(extras=f", {extras}" if extras else "")
        interactive = sys.stdin.isatty()
        if not interactive:
            sys.ps1 = sys.ps2 = ""  # piped input: only what the code prints
        console.interact(banner=banner if interactive else "", exitmsg="")
        session = namespace.get("session")
        if session is not None:
            loop.run_until_complete(session.close())
        loop.run_until_complete(lifespan.shutdown())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


class _AwaitingConsole(code.InteractiveConsole):
    """The standard console, compiling with top-level `await` and running what it awaits on
    the shell's event loop."""

    def __init__(self, namespace: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self._loop = loop

    def runcode(self, code_object: types.CodeType) -> None:
        try:
            result = eval(code_object, self.locals)
            if inspect.iscoroutine(result):
                self._loop.run_until_complete(result)
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


async def _namespace(app: Any, module_name: str) -> dict[str, Any]:
    from ..config import Settings

    found: dict[str, Any] = {"app": app, "asyncio": asyncio}
    module = sys.modules.get(module_name)
    names = vars(module) if module is not None else {}
    for value in names.values():
        if isinstance(value, Settings):
            found["settings"] = value
            break
    database = app.extensions.get("brace.db")
    if database is not None:
        from sqlalchemy import func, select

        from ..db import Model

        found.update(db=database, session=database.sessionmaker(), select=select, func=func)
        for mapper in Model.registry.mappers:
            found.setdefault(mapper.class_.__name__, mapper.class_)
    for name, value in names.items():  # the app module's own names, as `from app import *`
        if not name.startswith("_"):
            found.setdefault(name, value)
    return found

"""A failed `brace db upgrade/downgrade` in a few lines: which revision, which statement, what
the database said, and what usually fixes it, instead of a long traceback."""

from __future__ import annotations

import traceback
from pathlib import Path

import click

__all__ = ["explain"]

_HINTS = (
    (
        ("not null", "null value"),
        "a NOT NULL column added to a table that has rows needs a server_default "
        "(sa.false(), sa.text('0'), sa.func.now()) or nullable=True",
    ),
    (
        ("already exists", "duplicate column"),
        "the database has this already: was it created by create_all() or by hand? "
        "`brace db current` shows the revision the database records",
    ),
    (
        ("no such table", "does not exist", "undefined"),
        "the database is not where this revision expects it: `brace db current` shows "
        "the revision it records",
    ),
    (
        ("type", "cannot be cast", "datatype mismatch"),
        "a default or a value this database does not accept for the column's type: use "
        "portable defaults (sa.true(), sa.false(), sa.func.now())",
    ),
)


def explain(exc: BaseException, action: str) -> click.ClickException:
    """The error to show for a migration that failed with `exc`."""
    if type(exc).__name__ == "CommandError":  # Alembic's own: an unknown revision, say
        return click.ClickException(str(exc))
    revision, where = _failing_revision(exc)
    statement = getattr(exc, "statement", None)
    said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    lines = [f"{action} failed in revision {revision}" + (f" ({where})" if where else "")]
    if statement:
        lines.append(f"  statement: {' '.join(str(statement).split())[:300]}")
    lines.append(f"  database said: {said[0] if said else type(exc).__name__}")
    lines.append(f"  hint: {_hint(' '.join(said).lower())}")
    return click.ClickException("\n".join(lines))


def _failing_revision(exc: BaseException) -> tuple[str, str]:
    """The revision file whose upgrade()/downgrade() was running, from the traceback."""
    for frame, line in reversed(list(traceback.walk_tb(exc.__traceback__))):
        names = frame.f_globals
        if "down_revision" in names and "revision" in names:
            path = Path(frame.f_code.co_filename)
            return str(names["revision"]), f"{path.name}, line {line}"
    return "(unknown)", ""


def _hint(message: str) -> str:
    for needles, hint in _HINTS:
        if any(needle in message for needle in needles):
            return hint
    return "fix the revision file, then run the command again"

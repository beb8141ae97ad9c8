"""`brace db ...`: a migration round trip (autogenerate, upgrade, downgrade, upgrade) on SQLite
and on the real PostgreSQL, with the data kept; and clear errors for wrong app paths."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from brace.cli import main
from support_db import private_database

APP_V1 = """
import os

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from brace import App
from brace.db import Database, Model

app = App()
db = Database(os.environ["DATABASE_URL"], app=app)


class Note(Model):
    __tablename__ = "migrated_note"
    text: Mapped[str] = mapped_column(String(100))
"""

APP_V2 = APP_V1.replace(
    "    text: Mapped[str] = mapped_column(String(100))\n",
    "    text: Mapped[str] = mapped_column(String(100))\n"
    '    pinned: Mapped[bool] = mapped_column(default=False, server_default="0")\n'
    "    tag: Mapped[str | None] = mapped_column(String(20), index=True)\n",
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'project.db'}"
        return
    with private_database(f"brace_migrations_{os.getpid()}") as url:
        yield url


def run_brace_db(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`brace db <args>` in `project`, against the database at `url`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "brace", "db", *args],
        cwd=project,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def brace_db(project: Path, url: str, *args: str) -> str:
    """The same, which must succeed: its output."""
    done = run_brace_db(project, url, *args)
    assert done.returncode == 0, f"brace db {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(sql))
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def columns(url: str) -> set[str]:
    if url.startswith("sqlite"):
        return {str(row[1]) for row in query(url, "PRAGMA table_info(migrated_note)")}
    rows = query(
        url,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'migrated_note'",
    )
    return {str(row[0]) for row in rows}


def test_migration_round_trip_keeps_the_data(tmp_path: Path, database_url: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(APP_V1)
    assert "Created migrations/" in brace_db(project, database_url, "init")
    brace_db(project, database_url, "revision", "-m", "create notes")
    brace_db(project, database_url, "upgrade")
    assert columns(database_url) == {"id", "text"}
    query(database_url, "INSERT INTO migrated_note (text) VALUES ('kept'), ('also kept')")

    (project / "app.py").write_text(APP_V2)
    out = brace_db(project, database_url, "revision", "-m", "pin and tag notes")
    revisions = sorted((project / "migrations" / "versions").glob("*.py"))
    assert len(revisions) == 2, out
    second = next(p for p in revisions if "pin_and_tag" in p.name).read_text()
    assert "add_column" in second and "pinned" in second and "create_index" in second
    if database_url.startswith("sqlite"):
        assert "batch_alter_table" in second  # SQLite alters through batch mode

    brace_db(project, database_url, "upgrade", "head")
    assert columns(database_url) == {"id", "text", "pinned", "tag"}
    rows = query(database_url, "SELECT text, pinned FROM migrated_note ORDER BY id")
    assert [(r[0], bool(r[1])) for r in rows] == [("kept", False), ("also kept", False)]

    brace_db(project, database_url, "downgrade", "-1")
    assert columns(database_url) == {"id", "text"}
    assert [r[0] for r in query(database_url, "SELECT text FROM migrated_note ORDER BY id")] == [
        "kept",
        "also kept",
    ]

    brace_db(project, database_url, "upgrade")
    assert columns(database_url) == {"id", "text", "pinned", "tag"}
    assert len(query(database_url, "SELECT id FROM migrated_note")) == 2
    current = brace_db(project, database_url, "current")
    history = brace_db(project, database_url, "history")
    assert "(head)" in current and "pin and tag notes" in history and "create notes" in history


def test_cli_errors_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    runner = CliRunner()
    missing_env = runner.invoke(main, ["db", "current"])
    assert missing_env.exit_code == 1
    assert "no migration environment in migrations/" in missing_env.output
    assert runner.invoke(main, ["db", "init"]).exit_code == 0
    again = runner.invoke(main, ["db", "init"])
    assert again.exit_code == 1 and "not empty" in again.output

    (tmp_path / "site_mod.py").write_text(
        "from brace import App\napi = App()\napplication = App()\nnot_an_app = 1\n"
    )
    (tmp_path / "no_db.py").write_text("from brace import App\napp = App()\n")
    cases = {
        "nowhere_to_be_found:app": "cannot import 'nowhere_to_be_found'",
        "site_mod:app": "has no attribute 'app'; found: api, application",
        "site_mod:not_an_app": "is a int, not a brace App; found: api, application",
        ":app": "is not an APP path",
        "no_db:app": "this app has no database",
    }
    for path, message in cases.items():
        result = runner.invoke(main, ["db", "current", "--app", path])
        assert result.exit_code == 1, path
        assert message in result.output, (path, result.output)


def test_python_m_brace_shows_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "brace", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "db" in done.stdout

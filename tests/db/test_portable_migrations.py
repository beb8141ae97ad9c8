"""Migrations that port: the tutorial's "add a `pinned` flag" step works on SQLite and on
PostgreSQL, a revision written against one database runs on the other, and a failed upgrade is
a few readable lines with a hint and a non-zero exit."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_migrations import APP_V1, columns, query, run_brace_db
from test_migrations import brace_db as ok

from support_db import private_database

# The tutorial's step: a flag with only a Python-side default, added to a table with rows.
APP_PINNED = APP_V1.replace(
    "    text: Mapped[str] = mapped_column(String(100))\n",
    "    text: Mapped[str] = mapped_column(String(100))\n"
    "    pinned: Mapped[bool] = mapped_column(default=False)\n"
    "    archived: Mapped[bool] = mapped_column(server_default=sa.text('1'))\n"
    "    stamped: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)\n",
).replace(
    "from brace.db import Database, Model\n",
    "import sqlalchemy as sa\nfrom datetime import datetime\n"
    "from brace.db import Database, Model, UTCDateTime, utcnow\n",
)
# A column nothing can fill for the rows already there.
APP_BROKEN = APP_V1.replace(
    "    text: Mapped[str] = mapped_column(String(100))\n",
    "    text: Mapped[str] = mapped_column(String(100))\n"
    "    owner: Mapped[str] = mapped_column(String(20))\n",
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_database(f"brace_portable_{os.getpid()}") as url:
        yield url


def start_project(tmp_path: Path, url: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(APP_V1)
    ok(project, url, "init")
    ok(project, url, "revision", "-m", "create notes")
    return project


@pytest.mark.parametrize(
    "where", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_tutorial_step_adds_a_flag_to_a_table_with_rows(tmp_path: Path, where: str) -> None:
    if where == "sqlite":
        run(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    else:
        with private_database(f"brace_tutorial_{os.getpid()}") as url:
            run(tmp_path, url)


def run(tmp_path: Path, url: str) -> None:
    project = start_project(tmp_path, url)
    applied = ok(project, url, "upgrade")
    assert "Applied " in applied and "create notes" in applied
    assert "INFO" not in applied  # Alembic's own log lines stay out
    query(url, "INSERT INTO migrated_note (text) VALUES ('kept')")
    (project / "app.py").write_text(APP_PINNED)
    ok(project, url, "revision", "-m", "pin notes")
    (revision,) = (project / "migrations" / "versions").glob("*pin_notes.py")
    source = revision.read_text()
    assert "batch_alter_table" in source
    assert "server_default=sa.false()" in source  # from default=False, portable
    assert "server_default=sa.true()" in source  # sa.text('1') on a boolean, made portable
    assert "server_default=sa.func.now()" in source
    assert "brace.db" not in source  # UTCDateTime is written as sa.DateTime(timezone=True)
    assert "Applied " in ok(project, url, "upgrade")
    assert {"pinned", "archived", "stamped"} <= columns(url)
    rows = query(url, "SELECT text, pinned, archived FROM migrated_note")
    assert [(r[0], bool(r[1]), bool(r[2])) for r in rows] == [("kept", False, True)]
    assert "Already up to date" in ok(project, url, "upgrade")
    reverted = ok(project, url, "downgrade", "-1")
    assert "Reverted " in reverted and "pin notes" in reverted


@pytest.mark.postgres
def test_a_revision_written_on_sqlite_runs_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}"
    project = start_project(tmp_path, sqlite_url)
    ok(project, sqlite_url, "upgrade")
    (project / "app.py").write_text(APP_PINNED)
    ok(project, sqlite_url, "revision", "-m", "pin notes")
    # The same revisions, on the production database.
    ok(project, pg_url, "upgrade")
    query(pg_url, "INSERT INTO migrated_note (text) VALUES ('on postgres')")
    rows = query(pg_url, "SELECT pinned, archived, stamped IS NOT NULL FROM migrated_note")
    assert rows == [(False, True, True)]
    ok(project, pg_url, "downgrade", "base")
    assert columns(pg_url) == set()


def test_a_failed_upgrade_is_a_few_lines_with_a_hint(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    project = start_project(tmp_path, url)
    ok(project, url, "upgrade")
    query(url, "INSERT INTO migrated_note (text) VALUES ('<script>x</script>''; --')")
    (project / "app.py").write_text(APP_BROKEN)
    ok(project, url, "revision", "-m", "add owner")
    failed = run_brace_db(project, url, "upgrade")
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) <= 6, output
    (revision,) = (project / "migrations" / "versions").glob("*add_owner.py")
    rev_id = revision.name.split("_")[0]
    assert f"upgrade failed in revision {rev_id}" in output
    assert "ADD COLUMN owner" in output
    assert "NOT NULL" in output
    assert "hint:" in output and "server_default" in output
    # The rows are still there, and an unknown target is one line too.
    assert query(url, "SELECT text FROM migrated_note") == [("<script>x</script>'; --",)]
    unknown = run_brace_db(project, url, "upgrade", "nope")
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr + unknown.stdout


def test_migrating_at_start_up_keeps_alembic_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from brace.db import Model
    from brace.db.migrations import alembic_config, downgrade, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    project = start_project(tmp_path, url)
    config = alembic_config(project / "migrations", url, Model.metadata)
    with caplog.at_level(logging.INFO):
        applied = upgrade(config)
        again = upgrade(config)
        reverted = downgrade(config, "base")
    assert len(applied) == 1 and applied[0].endswith(": create notes"), applied
    assert again == []
    assert reverted == applied
    assert not [r for r in caplog.records if r.name.startswith("alembic")], caplog.text

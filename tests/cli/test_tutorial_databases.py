"""The tutorial, command by command, on SQLite and on PostgreSQL: a new full-stack project,
its migrations, the "add a pinned flag to notes" step, a user from the command line, and the
API serving the new column. The same files work on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_new import create, project_env

from support_db import private_database

PINNED = "    pinned: Mapped[bool] = mapped_column(default=False)\n"
SCRIPT = """
import os
from brace.testing import TestClient
from mysite.app import create_app
from mysite.settings import AppSettings

settings = AppSettings(
    env="test", database_url=os.environ["DATABASE_URL"], _env_file=None, _environ={}
)
with TestClient(create_app(settings)) as client:
    form = {"username": "grace@example.com", "password": "a long tutorial passphrase"}
    token = client.post("/auth/token", data=form).json()["access_token"]
    bearer = {"authorization": f"Bearer {token}"}
    made = client.post("/api/notes", json={"title": "First", "body": "hi"}, headers=bearer)
    assert made.status_code == 201, made.text
    listed = client.get("/api/notes", headers=bearer).json()
    assert [(n["title"], n["pinned"]) for n in listed["items"]] == [("First", False)], listed
    print("tutorial ok")
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'mysite.db'}"
        return
    with private_database(f"brace_tutorial_site_{os.getpid()}") as url:
        yield url


def run(project: Path, env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_the_tutorial_top_to_bottom(tmp_path: Path, database_url: str) -> None:
    _, project = create(tmp_path, "fullstack")
    env = {**project_env(project), "DATABASE_URL": database_url, "BRACE_ENV": "dev"}
    brace = ("-m", "brace")
    assert "Applied 0001" in run(project, env, *brace, "db", "upgrade")
    # "To change the schema, change a model, then let Alembic write the revision and read it."
    model = project / "mysite" / "models" / "note.py"
    source = model.read_text()
    anchor = '    body: Mapped[str] = mapped_column(Text, default="")\n'
    assert anchor in source
    model.write_text(source.replace(anchor, anchor + PINNED))
    wrote = run(project, env, *brace, "db", "revision", "-m", "add a pinned flag to notes")
    (revision,) = (project / "migrations" / "versions").glob("*add_a_pinned_flag*.py")
    assert str(revision.name) in wrote
    assert "server_default=sa.false()" in revision.read_text()
    assert "add a pinned flag to notes" in run(project, env, *brace, "db", "upgrade")
    assert "(head)" in run(project, env, *brace, "db", "current")
    created = run(
        project,
        env,
        *brace,
        "createuser",
        "--email",
        "grace@example.com",
        "--password-stdin",
        stdin="a long tutorial passphrase\n",
    )
    assert "Created user grace@example.com" in created
    assert "tutorial ok" in run(project, env, "-c", SCRIPT)

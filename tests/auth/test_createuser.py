"""`brace createuser`: users from the command line, with the password rules and clear errors."""

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from brace.cli import main

APP = """
import os

from brace import App
from brace.auth import Auth, User
from brace.db import Database
from brace.sessions import SessionMiddleware

app = App()
app.add_middleware(SessionMiddleware, secret_key="a-long-enough-secret-for-the-tests")
db = Database(os.environ["DATABASE_URL"], app=app)
Auth(app)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'users.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    (tmp_path / "cliapp.py").write_text(APP)
    return tmp_path


def create_tables(url: str) -> None:
    from brace.auth import User  # noqa: F401 - registers the auth tables
    from brace.db import Database

    async def run() -> None:
        db = Database(url)
        await db.create_all()
        await db.dispose()

    asyncio.run(run())


def users(url: str) -> list[tuple[str, bool, bool, bool]]:
    from brace.auth import User
    from brace.auth._passwords import verify_password
    from brace.db import Database

    async def run() -> list[tuple[str, bool, bool, bool]]:
        db = Database(url)
        async with db.session() as session:
            rows = list(await session.scalars(select(User).order_by(User.id)))
        await db.dispose()
        return [
            (
                u.email,
                u.is_superuser,
                u.is_staff,
                verify_password(u.password_hash, "a long admin passphrase")[0],
            )
            for u in rows
        ]

    return asyncio.run(run())


def test_createuser(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{project / 'users.db'}"
    runner = CliRunner()
    args = ["createuser", "--app", "cliapp:app", "--email", "root@example.com", "--superuser"]
    no_tables = runner.invoke(main, [*args, "--password-stdin"], input="a long admin passphrase\n")
    assert no_tables.exit_code == 1 and "brace db upgrade" in no_tables.output
    create_tables(url)
    ok = runner.invoke(main, [*args, "--password-stdin"], input="a long admin passphrase\n")
    assert ok.exit_code == 0, ok.output
    assert "Created superuser root@example.com" in ok.output
    prompted = runner.invoke(
        main,
        ["createuser", "--app", "cliapp:app", "--email", "ed@example.com", "--staff"],
        input="a long admin passphrase\na long admin passphrase\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert users(url) == [
        ("root@example.com", True, True, True),
        ("ed@example.com", False, True, True),
    ]
    again = runner.invoke(main, [*args, "--password-stdin"], input="a long admin passphrase\n")
    assert again.exit_code == 1 and "already exists" in again.output


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("root@example.com", "short", "at least 10 characters"),
        ("root@example.com", "password123", "too common"),
        ("not-an-email", "a long admin passphrase", "is not an email address"),
        ("a b@example.com", "a long admin passphrase", "is not an email address"),
    ],
)
def test_createuser_refusals(project: Path, email: str, password: str, message: str) -> None:
    result = CliRunner().invoke(
        main,
        ["createuser", "--app", "cliapp:app", "--email", email, "--password-stdin"],
        input=password + "\n",
    )
    assert result.exit_code == 1 and message in result.output


def test_createuser_needs_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bare.py").write_text("from brace import App\napp = App()\n")
    result = CliRunner().invoke(
        main,
        ["createuser", "--app", "bare:app", "--email", "a@b.c", "--password-stdin"],
        input="x\n",
    )
    assert result.exit_code == 1 and "has no Auth" in result.output


USERNAME_APP = """
import os

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from brace import App
from brace.auth import Auth, UserMixin, auth_views
from brace.db import Database, Model
from brace.sessions import SessionMiddleware


class Handle(UserMixin, Model):
    __tablename__ = "handle_user"
    USERNAME_FIELD = "username"

    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True, default=None)


app = App()
app.add_middleware(SessionMiddleware, secret_key="a-long-enough-secret-for-the-tests")
db = Database(os.environ["DATABASE_URL"], app=app)
Auth(app, user_model=Handle)
app.include(auth_views())
"""


def test_username_users_from_the_command_line_to_the_login_page(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import re

    from brace.testing import TestClient

    (project / "handleapp.py").write_text(USERNAME_APP)
    monkeypatch.syspath_prepend(str(project))
    module = importlib.import_module("handleapp")
    url = str(module.db.url)
    create_tables(url)
    runner = CliRunner()
    base = ["createuser", "--app", "handleapp:app", "--password-stdin"]
    made = runner.invoke(main, [*base, "--username", "grace"], input="a long admin passphrase\n")
    assert made.exit_code == 0, made.output
    assert "Created user grace" in made.output
    taken = runner.invoke(main, [*base, "--username", "grace"], input="a long admin passphrase\n")
    assert taken.exit_code == 1 and "a user with the username grace already exists" in taken.output
    for bad in ("", "two words", "x" * 151):
        refused = runner.invoke(main, [*base, "--username", bad], input="a long passphrase 1\n")
        assert refused.exit_code == 1 and "is not a username" in refused.output
    with_email = runner.invoke(
        main,
        [*base, "--username", "ada", "--email", "Ada@Example.com"],
        input="a long admin passphrase\n",
    )
    assert with_email.exit_code == 0, with_email.output

    with TestClient(module.app) as client:
        page = client.get("/auth/login").text
        assert '<label for="username">Username</label>' in page and 'type="text"' in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        form = {"username": "grace", "password": "a long admin passphrase"}
        bad = client.post(
            "/auth/login", data={**form, "password": "nope", "csrf_token": token.group(1)}
        )
        assert bad.status_code == 400 and "Invalid username or password." in bad.text
        done = client.post("/auth/login", data={**form, "csrf_token": token.group(1)})
        assert done.status_code == 303, done.text


CUSTOM_USER_ONLY = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from brace import App
from brace.auth import Auth, UserMixin, auth_views
from brace.auth.tokens import JWTTokens, enable_tokens
from brace.db import Database, Model
from brace.sessions import SessionMiddleware

class Member(UserMixin, Model):
    nickname: Mapped[str] = mapped_column(String(40), default="")

app = App()
app.add_middleware(SessionMiddleware, secret_key="s" * 40)
Database("sqlite+aiosqlite:///:memory:", app=app)
Auth(app, user_model=Member)
app.include(auth_views())
enable_tokens(app, JWTTokens(secret="j" * 40))
app.compile()
print(" ".join(sorted(Model.metadata.tables)))
"""


def test_a_custom_user_model_gets_none_of_brace_s_tables(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", CUSTOM_USER_ONLY],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["member"]  # no auth_user, auth_group, auth_access_token

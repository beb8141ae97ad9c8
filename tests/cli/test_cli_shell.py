"""`brace shell` with piped input: the app started (and stopped), its settings, database
session and models at hand, top-level await, and errors that do not end the session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APP = """
import os
from pathlib import Path

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from brace import App, Settings
from brace.db import Database, Model


class ShopSettings(Settings):
    shop_name: str = "corner shop"


settings = ShopSettings(_env_file=None)
app = App(title="Shop")
db = Database(os.environ["DATABASE_URL"], app=app)
started = []


class ShellProduct(Model):
    name: Mapped[str] = mapped_column(String(40))


@app.on_startup
async def tables() -> None:
    await db.drop_all()
    await db.create_all()
    started.append("yes")


@app.on_shutdown
async def bye() -> None:
    Path("stopped.txt").write_text("stopped")
"""

SESSION = """\
print(app.title, settings.shop_name, started)
session.add(ShellProduct(name="<script>tea</script>'; --"))
await session.commit()
print(await session.scalar(select(func.count()).select_from(ShellProduct)))
x = 1 +
1/0
print((await session.scalars(select(ShellProduct.name))).all())
"""


def shell(project: Path, url: str, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brace", "shell", *args],
        cwd=project,
        env={**os.environ, "DATABASE_URL": url, "BRACE_APP": "shopapp:app"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_session_on_the_started_app(tmp_path: Path, db_url: str) -> None:
    (tmp_path / "shopapp.py").write_text(APP)
    done = shell(tmp_path, db_url, SESSION)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Shop corner shop ['yes']",
        "1",
        '["<script>tea</script>\'; --"]',
    ]
    assert "SyntaxError" in done.stderr and "ZeroDivisionError" in done.stderr
    assert (tmp_path / "stopped.txt").read_text() == "stopped"  # the lifespan ended


def test_a_wrong_app_is_one_line(tmp_path: Path) -> None:
    done = shell(tmp_path, "sqlite+aiosqlite://", "", "--app", "nowhere:app")
    assert done.returncode == 1
    assert "cannot import 'nowhere'" in done.stderr and "Traceback" not in done.stderr


def test_an_app_that_cannot_start_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "brokenapp.py").write_text(
        "from brace import App\napp = App()\n\n\n@app.on_startup\n"
        "async def boom() -> None:\n    raise RuntimeError('no database here')\n"
    )
    done = shell(tmp_path, "sqlite+aiosqlite://", "print('never')\n", "--app", "brokenapp:app")
    assert done.returncode == 1 and "never" not in done.stdout
    assert "the app failed to start" in done.stderr and "no database here" in done.stderr

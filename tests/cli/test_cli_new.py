"""`brace new`: every template makes a project whose own tests pass, which `brace run` serves
at once, and which lints clean; bad names and directories in use are refused with a reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, NamedTuple

import httpx
import pytest
from click.testing import CliRunner

from brace.cli import _new, main

# The name each template's project gets in these tests, and pages its server must answer.
PROJECTS = {
    "minimal": ("hello_site", ["/", "/docs", "/api/hello?name=brace", "/static/site.css"]),
    "api": ("tasks_api", ["/", "/docs", "/tasks", "/readyz"]),
    "fullstack": ("mysite", ["/", "/docs", "/auth/signup", "/auth/login", "/readyz"]),
}
LAYOUT = {
    "minimal": ["{name}/routes/pages.py", "{name}/routes/api.py", "{name}/templates/index.html"],
    "api": [
        "{name}/models/task.py",
        "{name}/routes/tasks.py",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_initial.py",
        "tests/test_migrations.py",
    ],
    "fullstack": [
        "{name}/models/note.py",
        "{name}/routes/notes.py",
        "{name}/routes/api.py",
        "{name}/templates/auth/base.html",
        "{name}/static/site.css",
        "migrations/env.py",
        "migrations/versions/0001_initial.py",
        "tests/test_migrations.py",
    ],
}
COMMON = [
    "app.py",
    "pyproject.toml",
    "README.md",
    ".env.example",
    ".gitignore",
    "{name}/__init__.py",
    "{name}/app.py",
    "{name}/settings.py",
    "tests/conftest.py",
]
TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
# A ```text block of the tutorial whose first line names a file of the generated project
# (`# mysite/app.py`, `{# mysite/templates/notes.html #}`) quotes that file.
EXCERPT = re.compile(
    r"^```text\n(?:# |\{# )(?P<path>[\w/.]+)(?: #\})?\n(?P<body>.*?)^```", re.S | re.M
)
# Variables of the developer's shell that would change what the project reads or runs.
UNSET = ("BRACE_", "DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "PORT", "PYTEST_")
UNSET_COVERAGE = "COV_CORE_"


class Server(NamedTuple):
    process: subprocess.Popen[bytes]
    log: IO[bytes]


def project_env(project: Path) -> dict[str, str]:
    """The environment of a fresh shell in the project: no brace settings from ours, and no
    pytest plugins beyond pytest itself (a new project's virtualenv has none; autoloading the
    ones installed here would also cost seconds per run)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith((*UNSET, UNSET_COVERAGE)) and key not in UNSET
    }
    env["PYTHONPATH"] = str(project)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def create(tmp_path: Path, template: str) -> tuple[str, Path]:
    name, _ = PROJECTS[template]
    target = tmp_path / name
    result = CliRunner().invoke(main, ["new", name, "--template", template, "-d", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Created {name} ({template} template)" in result.output
    assert "brace run" in result.output and f"cd {target}" in result.output
    return name, target


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path, dict[str, str], int], Server]]:
    """Start `brace run` in a project (output to a log file); stopped after the test."""
    servers: list[Server] = []

    def start(project: Path, env: dict[str, str], port: int) -> Server:
        log = (tmp_path / f"server-{port}.log").open("wb")
        command = [sys.executable, "-m", "brace", "run", "--port", str(port), "--no-access-log"]
        process = subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=log)
        servers.append(Server(process, log))
        return servers[-1]

    yield start
    for server in servers:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a server that hangs on exit
            server.process.kill()
            server.process.wait()
        server.log.close()


def wait_until_served(url: str, server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if server.process.poll() is not None:
                output = Path(server.log.name).read_text()
                code = server.process.returncode
                raise AssertionError(f"brace run exited ({code}):\n{output}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing answered on {url} within {timeout}s") from None
            time.sleep(0.1)


@pytest.mark.server
@pytest.mark.parametrize("template", list(PROJECTS))
def test_a_new_project_passes_its_tests_and_serves_at_once(
    template: str,
    tmp_path: Path,
    free_port: int,
    serve: Callable[[Path, dict[str, str], int], Server],
) -> None:
    name, project = create(tmp_path, template)
    for path in [*COMMON, *LAYOUT[template]]:
        assert (project / path.format(name=name)).is_file(), path
    for file in project.rglob("*"):
        assert not file.name.endswith(".tmpl") and not file.name.startswith("dot_"), file
        if file.is_file() and file.suffix in (".py", ".toml", ".md", ".html", ".example"):
            assert "__project__" not in file.read_text(), file
            assert "__brace_version__" not in file.read_text(), file
    assert f'packages = ["{name}"]' in (project / "pyproject.toml").read_text()
    env = project_env(project)

    # The project's own tests and its server run side by side: the suite stays quick. The
    # tests run in a shell where production's variables are exported, as on a deploy box.
    production = {
        "BRACE_ENV": "prod",
        "SECRET_KEY": "a-production-secret-that-the-tests-must-not-read-0123456789",
        "ALLOWED_HOSTS": "example.com",
        "DEBUG": "false",
    }
    tests = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env={**env, **production},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # `cd project && brace run`, as the README says: app.py at the root finds the package.
    server = serve(project, {**env, "BRACE_ENV": "dev"}, free_port)
    base = f"http://127.0.0.1:{free_port}"
    _, pages = PROJECTS[template]
    wait_until_served(base + "/healthz", server)
    for page in pages:
        assert httpx.get(base + page, timeout=10).status_code == 200, page

    output, _ = tests.communicate(timeout=180)
    assert tests.returncode == 0, output.decode()
    assert " passed" in output.decode()

    rules = ["--select", "E,F,I,B,UP,RUF", "--line-length", "100"]
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", *rules, "."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_fullstack_database_is_created_where_the_app_runs(tmp_path: Path) -> None:
    name, project = create(tmp_path, "fullstack")
    settings = (project / name / "settings.py").read_text()
    assert f'database_url: str = "sqlite+aiosqlite:///./{name}.db"' in settings
    assert "*.db" in (project / ".gitignore").read_text()
    env_py = (project / "migrations" / "env.py").read_text()
    assert "run_migrations()" in env_py  # as `brace db init` writes it


def test_the_tutorial_quotes_the_fullstack_project_as_it_is(tmp_path: Path) -> None:
    _, project = create(tmp_path, "fullstack")
    excerpts = EXCERPT.findall(TUTORIAL.read_text())
    assert len(excerpts) >= 8
    for path, body in excerpts:
        assert body in (project / path).read_text(), f"docs/tutorial.md misquotes {path}"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("my-site", "is not a Python identifier"),
        ("2fast", "like project_2fast"),
        ("café", "is not a Python identifier"),
        ("class", "is a Python keyword"),
        ("site", "standard library"),
        ("test", "standard library"),
        ("email", "standard library"),
        ("app", "taken by the project's own layout"),
        ("tests", "taken by the project's own layout"),
        ("brace", "already an installed module"),
        ("click", "already an installed module"),
    ],
)
def test_names_that_cannot_work_are_refused(
    name: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", name])
    assert result.exit_code == 2
    assert reason in " ".join(result.output.split())  # click wraps long lines
    assert list(tmp_path.iterdir()) == []


def test_my_site_suggests_a_name_that_works() -> None:
    problem = _new.name_problem("my-site")
    assert problem is not None and problem.endswith("like my_site")
    assert _new.name_problem("my_site") is None


def test_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["new", "blog", "-d", str(used)])
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.output
    assert [p.name for p in used.iterdir()] == ["notes.txt"]

    a_file = tmp_path / "file"
    a_file.write_text("")
    result = CliRunner().invoke(main, ["new", "blog", "-d", str(a_file)])
    assert result.exit_code == 1 and "is a file" in result.output


def test_an_empty_directory_and_the_current_one_are_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", "blog", "-d", "."])
    assert result.exit_code == 0, result.output
    assert "cd " not in result.output  # already there
    assert (tmp_path / "blog" / "app.py").is_file() and (tmp_path / "app.py").is_file()


def test_unknown_templates_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", "blog", "-t", "cms", "-d", str(tmp_path / "x")])
    assert result.exit_code == 2 and "'cms' is not one of" in result.output
    with pytest.raises(ValueError, match="unknown template 'cms'"):
        _new.write_project("blog", "cms", tmp_path / "y")
    with pytest.raises(ValueError, match="Python keyword"):
        _new.write_project("def", "minimal", tmp_path / "z")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_new, "_render_tree", disk_full)
    result = CliRunner().invoke(main, ["new", "blog", "-d", str(tmp_path / "blog")])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "No space left on device" in result.output
    assert not (tmp_path / "blog").exists()

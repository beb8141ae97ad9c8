"""Fixtures for the `brace` command tests: a project directory with its own app module."""

import importlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import brace.logging
import support_servers

CLEARED = (
    "BRACE_APP",
    "BRACE_ENV",
    "BRACE_ACCESS_LOG",
    "BRACE_LOG_FORMAT",
    "BRACE_LOG_LEVEL",
    "PORT",
    "SECRET_KEY",
    "TRUSTED_PROXIES",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
)


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (when the test starts)."""
    return support_servers.free_port()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project directory as the working directory, with a clean environment; the
    modules imported from it are forgotten afterwards, so each test imports its own app."""
    monkeypatch.chdir(tmp_path)
    for name in CLEARED:
        monkeypatch.setenv(name, "")  # recorded, so it is restored (or removed) afterwards
        monkeypatch.delenv(name)
    saved_path = list(sys.path)
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    yield tmp_path
    sys.path[:] = saved_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]
    # `brace run` sets up logging for the server; undo it for the tests that follow.
    root.handlers[:] = saved_logging[0]
    root.setLevel(saved_logging[1])
    brace.logging.reset()


@pytest.fixture
def write_app(project: Path) -> Callable[[str, str], Path]:
    def write(source: str, module: str = "app") -> Path:
        path = project / f"{module}.py"
        path.write_text(source)
        # Another test may have imported a module of this name from elsewhere.
        sys.modules.pop(module, None)
        importlib.invalidate_caches()
        return path

    return write

"""`brace run`: a real server in a subprocess, and clear refusals before one starts."""

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from brace.cli import main
from brace.logging import ACCESS_LOG_ENV

APP = """
import logging

from brace import App, Settings


class AppSettings(Settings):
    env_prefix = "APP_"
    greeting: str = "hello"


settings = AppSettings()
app = App()
app.health()
log = logging.getLogger("project")


@app.get("/")
async def index() -> dict[str, str]:
    log.info("serving the index")
    return {"greeting": settings.greeting}
"""


def serve(project: Path, port: int, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "brace", "run", "--port", str(port), *args],
        cwd=project,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_up(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"brace run exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("brace run did not start in 30 s")


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
        process.kill()
        output, _ = process.communicate()
    return output


@pytest.mark.server
def test_run_serves_the_app_with_an_access_log(
    write_app: Callable[..., Path], project: Path, free_port: int
) -> None:
    write_app(APP)
    (project / ".env").write_text("APP_GREETING='hi from .env'\n")
    process = serve(project, free_port, env={"BRACE_ENV": "dev"})
    base = f"http://127.0.0.1:{free_port}"
    try:
        wait_until_up(process, base + "/healthz")
        response = httpx.get(base + "/", headers={"X-Request-ID": "probe-42"})
        assert response.json() == {"greeting": "hi from .env"}
        assert httpx.get(base + "/readyz").json() == {"status": "ok", "checks": {}}
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert "[probe-42] serving the index" in output
    assert "brace.access [probe-42] GET / 200 " in output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


@pytest.mark.server
def test_run_json_logs_and_no_access_log_in_prod(
    write_app: Callable[..., Path], project: Path, free_port: int
) -> None:
    write_app(APP)
    env = {
        "BRACE_ENV": "prod",
        "APP_SECRET_KEY": "q8Zr3vN1xT5bLk0PmW7yHc2sJd9fGa4E",
        "APP_ALLOWED_HOSTS": "127.0.0.1",
    }
    process = serve(project, free_port, "--log-format", "json", "--workers", "2", env=env)
    base = f"http://127.0.0.1:{free_port}"
    try:
        wait_until_up(process, base + "/healthz")
        httpx.get(base + "/", headers={"X-Request-ID": "json-1"})
    finally:
        output = stop(process)
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert records, output
    handler = next(r for r in records if r["logger"] == "project")
    assert handler["message"] == "serving the index" and handler["request_id"] == "json-1"
    assert not [r for r in records if r["logger"] == "brace.access"]  # off in prod


def test_port_in_use_is_a_clear_error(write_app: Callable[..., Path]) -> None:
    write_app(APP)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["run", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} is already in use on 127.0.0.1" in result.output
    assert f"--port {port + 1}" in result.output
    assert "Traceback" not in result.output


def test_port_in_use_in_a_real_process(write_app: Callable[..., Path], project: Path) -> None:
    write_app(APP)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "brace", "run", "--port", str(port)],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "is already in use" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("code", "message"),
    [(errno.EACCES, "no permission to listen on"), (errno.EADDRNOTAVAIL, "cannot listen on")],
)
def test_other_bind_errors(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, code: int, message: str
) -> None:
    write_app(APP)

    def refuse(self: socket.socket, address: Any) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(socket.socket, "bind", refuse)
    result = CliRunner().invoke(main, ["run", "--port", "80"])
    assert result.exit_code == 1 and message in result.output


def test_unknown_host(write_app: Callable[..., Path]) -> None:
    write_app(APP)
    result = CliRunner().invoke(main, ["run", "--host", "no-such-host.invalid"])
    assert result.exit_code == 1 and "cannot listen on 'no-such-host.invalid'" in result.output


def test_reload_is_refused_in_prod(
    write_app: Callable[..., Path], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app(APP)
    monkeypatch.setenv("BRACE_ENV", "prod")
    result = CliRunner().invoke(main, ["run", "--reload"])
    assert result.exit_code == 1
    assert "--reload is for development and BRACE_ENV is prod" in result.output
    monkeypatch.delenv("BRACE_ENV")
    (project / ".env").write_text("BRACE_ENV=prod\n")  # from .env too
    assert "BRACE_ENV is prod" in CliRunner().invoke(main, ["run", "--reload"]).output


def test_reload_and_workers_together(write_app: Callable[..., Path]) -> None:
    write_app(APP)
    result = CliRunner().invoke(main, ["run", "--reload", "--workers", "2"])
    assert result.exit_code == 1 and "use --reload or --workers" in result.output


def test_bad_brace_env(write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    write_app(APP)
    monkeypatch.setenv("BRACE_ENV", "staging")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1
    assert "BRACE_ENV: expected one of 'dev', 'test', 'prod', got 'staging'" in result.output


def test_bad_settings_are_a_message_not_a_traceback(
    write_app: Callable[..., Path], project: Path
) -> None:
    write_app(APP.replace('greeting: str = "hello"', "workers: int = 1"))
    (project / ".env").write_text("APP_WORKERS=eighty\n")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1
    assert "invalid settings for AppSettings:" in result.output
    assert "APP_WORKERS: expected an integer, got 'eighty' (from .env, line 1)" in result.output
    assert "Traceback" not in result.output


def test_unsafe_prod_settings_stop_start_up(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app(APP)
    monkeypatch.setenv("BRACE_ENV", "prod")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1
    assert "BRACE_ENV=prod refuses to start with unsafe settings" in result.output
    assert "APP_SECRET_KEY: is missing" in result.output


def test_wrong_app_path(write_app: Callable[..., Path]) -> None:
    write_app(APP)
    result = CliRunner().invoke(main, ["run", "app:application"])
    assert result.exit_code == 1
    assert "module 'app' has no attribute 'application'; found: app" in result.output
    missing = CliRunner().invoke(main, ["run", "nowhere:app"])
    assert "cannot import 'nowhere'" in missing.output


def test_route_conflicts_are_reported(write_app: Callable[..., Path]) -> None:
    write_app(
        "from brace import App\n"
        "app = App()\n"
        "@app.get('/x', name='same')\n"
        "async def one() -> None: ...\n"
        "@app.get('/y', name='same')\n"
        "async def two() -> None: ...\n"
    )
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 1 and "the app cannot start: route name 'same'" in result.output


class Captured:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, app: str, **options: Any) -> None:
        self.calls.append((app, options))


@pytest.fixture
def uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> Captured:
    import uvicorn

    captured = Captured()
    monkeypatch.setattr(uvicorn, "run", captured)
    monkeypatch.setenv(ACCESS_LOG_ENV, "")  # restored afterwards: `run` sets it
    return captured


def test_options_reach_uvicorn(
    write_app: Callable[..., Path], project: Path, uvicorn_run: Captured, free_port: int
) -> None:
    write_app(APP, "webapp")
    result = CliRunner().invoke(main, ["run", "webapp:app", "--port", str(free_port)])
    assert result.exit_code == 0, result.output
    ((app, options),) = uvicorn_run.calls
    assert app == "webapp:app"
    assert options["port"] == free_port and options["host"] == "127.0.0.1"
    assert options["access_log"] is False and options["lifespan"] == "on"
    assert options["app_dir"] == str(project) and "reload" not in options
    assert options["log_config"]["root"]["level"] == "INFO"
    assert options["ws"] == "websockets-sansio"  # the WebSocket protocol brace is measured on
    assert os.environ[ACCESS_LOG_ENV] == "1"  # dev: on
    # Nobody's X-Forwarded-For is believed unless proxies are named; 1 MiB WebSocket frames.
    assert options["proxy_headers"] is False and options["forwarded_allow_ips"] == ""
    assert options["ws_max_size"] == 1024 * 1024


def test_trusted_proxies_and_websocket_size_reach_uvicorn(
    write_app: Callable[..., Path],
    uvicorn_run: Captured,
    monkeypatch: pytest.MonkeyPatch,
    free_port: int,
) -> None:
    write_app(APP, "webapp")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.2, 10.0.0.3")
    args = ["run", "webapp:app", "--port", str(free_port), "--ws-max-size", "65536"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    ((_, options),) = uvicorn_run.calls
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.2, 10.0.0.3"
    assert options["ws_max_size"] == 65536


def test_reload_workers_and_logging_options(
    write_app: Callable[..., Path],
    project: Path,
    uvicorn_run: Captured,
    monkeypatch: pytest.MonkeyPatch,
    free_port: int,
) -> None:
    write_app(APP)
    monkeypatch.setenv("BRACE_APP", "app:app")
    monkeypatch.setenv("PORT", str(free_port))
    runner = CliRunner()
    assert runner.invoke(main, ["run", "--reload"]).exit_code == 0
    assert runner.invoke(main, ["run", "--workers", "3", "--no-access-log"]).exit_code == 0
    result = runner.invoke(main, ["run", "--log-format", "json", "--log-level", "DEBUG"])
    assert result.exit_code == 0, result.output
    (_, reload), (_, workers), (_, logs) = uvicorn_run.calls
    assert reload["reload"] is True and reload["reload_dirs"] == [str(project)]
    assert reload["port"] == free_port
    assert workers["workers"] == 3 and "reload" not in workers
    assert logs["log_config"]["formatters"]["brace"]["()"] == "brace.logging.JSONFormatter"
    assert logs["log_level"] == "debug"


def test_access_log_off_by_default_in_test_env(
    write_app: Callable[..., Path], uvicorn_run: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app(APP)
    monkeypatch.setenv("BRACE_ENV", "test")
    assert CliRunner().invoke(main, ["run"]).exit_code == 0
    assert os.environ[ACCESS_LOG_ENV] == "0"
    assert CliRunner().invoke(main, ["run", "--access-log"]).exit_code == 0
    assert os.environ[ACCESS_LOG_ENV] == "1"


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for command in ("run", "routes", "openapi", "check", "db"):
        assert f"  {command} " in result.output


def test_app_as_an_option(
    write_app: Callable[..., Path], uvicorn_run: Captured, free_port: int
) -> None:
    write_app(APP, "service")
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--app", "service:app", "--port", str(free_port)])
    assert result.exit_code == 0, result.output
    assert uvicorn_run.calls[0][0] == "service:app"
    clash = runner.invoke(main, ["run", "service:app", "--app", "other:app"])
    assert clash.exit_code == 1 and "two apps given" in clash.output


def test_run_bounds_graceful_shutdown(
    write_app: Callable[..., Path], project: Path, uvicorn_run: Captured, free_port: int
) -> None:
    write_app(APP, "webapp")
    result = CliRunner().invoke(
        main, ["run", "webapp:app", "--port", str(free_port), "--graceful-timeout", "3"]
    )
    assert result.exit_code == 0, result.output
    ((_, options),) = uvicorn_run.calls
    assert options["timeout_graceful_shutdown"] == 3.0


def test_the_app_can_be_named_in_dot_env(
    write_app: Callable[..., Path],
    project: Path,
    uvicorn_run: Captured,
    monkeypatch: pytest.MonkeyPatch,
    free_port: int,
) -> None:
    write_app(APP, "service")
    (project / ".env").write_text("# the app to serve\nBRACE_APP=service:app\n")
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--port", str(free_port)])
    assert result.exit_code == 0, result.output
    assert uvicorn_run.calls[-1][0] == "service:app"
    routes = runner.invoke(main, ["routes"])  # every command finds it the same way
    assert routes.exit_code == 0 and "/" in routes.output, routes.output
    # The environment wins over .env, and an argument over both.
    monkeypatch.setenv("BRACE_APP", "nowhere:app")
    missing = runner.invoke(main, ["run", "--port", str(free_port)])
    assert missing.exit_code == 1 and "cannot import 'nowhere'" in missing.output
    assert runner.invoke(main, ["run", "service:app", "--port", str(free_port)]).exit_code == 0


def test_a_malformed_dot_env_is_a_message_not_a_traceback(
    write_app: Callable[..., Path], project: Path, uvicorn_run: Captured
) -> None:
    write_app(APP)
    (project / ".env").write_text("BRACE_APP='app:app\n")  # an unclosed quote
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and ".env" in result.output, result.output
    assert uvicorn_run.calls == []

"""`brace run`: serve the app with uvicorn, with brace's logging in every worker."""

from __future__ import annotations

import errno
import logging.config
import os
import socket
from typing import Any

import click

from ._app_loader import app_spec
from ._check import load_checked_app, settings_error

__all__ = ["run"]


def _check_port(host: str, port: int) -> None:
    """Fail with a sentence, not a traceback from deep inside the server, when the address
    cannot be bound."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise click.ClickException(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # The same option uvicorn sets: a port left in TIME_WAIT by a restart is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            where = f"{host}:{port}"
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} is already in use on {host} (another server is running "
                    f"there): stop it, or pick another port with --port {port + 1}"
                ) from None
            if exc.errno == errno.EACCES:
                raise click.ClickException(
                    f"no permission to listen on {where}: ports below 1024 need privileges; "
                    "use a higher --port (and a proxy in front) instead"
                ) from None
            raise click.ClickException(f"cannot listen on {where}: {exc.strerror or exc}") from None


@click.command()
@click.argument("app_path", metavar="[APP]", required=False)
@click.option("--app", "app_option", default=None, help="The app, as an option (same as APP).")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    envvar="PORT",
    help="The port to bind (also read from PORT).",
)
@click.option("--reload", is_flag=True, help="Restart when a file changes (BRACE_ENV=dev only).")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="BRACE_LOG_FORMAT",
    help="Log lines as text or JSON (also BRACE_LOG_FORMAT).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error", "critical"], case_sensitive=False),
    default="info",
    show_default=True,
    envvar="BRACE_LOG_LEVEL",
    help="The lowest level logged (also BRACE_LOG_LEVEL).",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="One line per request. Default: on when BRACE_ENV=dev, off otherwise.",
)
@click.option(
    "--graceful-timeout",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Seconds open responses (SSE feeds, streams) get to finish at shutdown.",
)
@click.option(
    "--trusted-proxies",
    default="",
    envvar="TRUSTED_PROXIES",
    help="Comma-separated proxy addresses (or CIDRs, or *) whose X-Forwarded-For and "
    "X-Forwarded-Proto are believed (also TRUSTED_PROXIES). Default: none, so client "
    "addresses (login throttling, logs) are the peers' own.",
)
@click.option(
    "--ws-max-size",
    type=click.IntRange(min=1),
    default=1024 * 1024,
    show_default=True,
    help="The largest WebSocket message the server buffers, in bytes (uvicorn's own default "
    "is 16 MiB, read into memory before any app limit applies).",
)
def run(
    app_path: str | None,
    app_option: str | None,
    host: str,
    port: int,
    reload: bool,
    workers: int,
    log_format: str,
    log_level: str,
    access_log: bool | None,
    graceful_timeout: float,
    trusted_proxies: str,
    ws_max_size: int,
) -> None:
    """Serve APP (module:attribute; default BRACE_APP, then app:app) with uvicorn."""
    from ..config import current_env
    from ..logging import ACCESS_LOG_ENV, dict_config

    try:
        import uvicorn
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise click.ClickException('brace run needs uvicorn: pip install "brace[server]"') from None
    try:
        env = current_env()
    except ValueError as exc:
        raise settings_error(exc) from None
    if reload and env == "prod":
        raise click.ClickException(
            "--reload is for development and BRACE_ENV is prod: it watches the files and "
            "restarts on every change. Use --workers N in production instead"
        )
    if reload and workers > 1:
        raise click.ClickException("--reload runs one worker: use --reload or --workers, not both")
    if app_path and app_option and app_path != app_option:
        raise click.ClickException(f"two apps given: {app_path} and --app {app_option}")
    spec = app_spec(app_path or app_option)
    if access_log is None:
        access_log = env == "dev"
    # Workers are new processes: they learn the choice from the environment they inherit.
    os.environ[ACCESS_LOG_ENV] = "1" if access_log else "0"
    log_config = dict_config("json" if log_format == "json" else "text", log_level)
    # Logging is set up before the app is imported, as it will be in each worker: the app
    # decides on its access log layer when it compiles.
    logging.config.dictConfig(log_config)
    # Import the app here first: a wrong path or bad settings give a clear message now,
    # instead of a traceback from each worker.
    load_checked_app(spec)
    _check_port(host, port)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config,
        "log_level": log_level.lower(),
        "access_log": False,  # brace's own access log replaces uvicorn's
        "lifespan": "on",
        "app_dir": os.getcwd(),
        # Without a bound, one open SSE feed keeps a deploy waiting until its client leaves.
        "timeout_graceful_shutdown": graceful_timeout,
        # By name: older uvicorn releases default to the legacy protocol that uvicorn and the
        # `websockets` library deprecate; the sans-I/O one holds a connection in less memory
        # and broadcasts faster (bench/RESULTS.md). The `server` extra needs uvicorn >= 0.35.
        "ws": "websockets-sansio",
        "ws_max_size": ws_max_size,
        # Forwarded headers are believed from the proxies named, and from nobody by default:
        # uvicorn's default trusts 127.0.0.1, so anything on the host could claim any address.
        "proxy_headers": bool(trusted_proxies.strip()),
        "forwarded_allow_ips": trusted_proxies.strip() or "",
    }
    if reload:
        options.update(reload=True, reload_dirs=[os.getcwd()])
    elif workers > 1:
        options["workers"] = workers
    uvicorn.run(spec, **options)

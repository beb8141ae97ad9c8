"""`brace check [--deploy]`: find what would make the app fail or be unsafe, before it serves.

The deployment checklist reads the Settings and the app's middleware (`app.user_middleware`)
and says, for each finding, how to fix it; errors make the command exit with status 1, so it
can gate a deployment pipeline.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import click

from ._app_loader import app_spec, load_app

if TYPE_CHECKING:
    from ..config import Settings
    from ..core.app import App

__all__ = ["Finding", "check", "deploy_findings", "load_checked_app", "settings_error"]

Level = Literal["error", "warning"]


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One problem: how bad, a stable id (for --ignore), what is wrong, and the fix."""

    level: Level
    id: str
    message: str
    fix: str


def settings_error(exc: BaseException) -> click.ClickException:
    """A SettingsError as a command error: its lines already name each variable."""
    return click.ClickException(str(exc))


def load_checked_app(spec: str) -> App:
    """load_app, with bad settings and routes reported as messages instead of tracebacks."""
    from ..config import SettingsError

    try:
        app: App = load_app(spec)
    except SettingsError as exc:
        raise settings_error(exc) from None
    try:
        app.compile()
    except (ValueError, TypeError, LookupError, RuntimeError) as exc:
        raise click.ClickException(f"the app cannot start: {exc}") from None
    return app


def _middleware(app: App, kind: type) -> list[dict[str, Any]]:
    """The options of each `app.add_middleware(kind, ...)` call."""
    return [
        options
        for middleware, options in app.user_middleware
        if isinstance(middleware, type) and issubclass(middleware, kind)
    ]


def _is_sqlite(url: str) -> bool:
    return url.strip().lower().startswith("sqlite")


def deploy_findings(settings: Settings, app: App) -> list[Finding]:
    """The deployment checklist over `settings` and `app` (no I/O: it only reads them)."""
    names = {f.name: f.env_name for f in type(settings).fields()}

    def var(name: str) -> str:
        return names.get(name, name.upper())

    return [
        *_environment_findings(settings, app, var),
        *_host_findings(settings, app, var),
        *_session_findings(app),
        *_security_header_findings(app),
        *_database_findings(settings, app),
        *_server_limit_findings(),
    ]


def _server_limit_findings() -> list[Finding]:
    """What uvicorn leaves unbounded (request-head size and time): a proxy must bound them.
    Naming trusted proxies (TRUSTED_PROXIES) says there is one."""
    if os.environ.get("TRUSTED_PROXIES", "").strip():
        return []
    return [
        Finding(
            "warning",
            "server-limits",
            "no proxy in front (TRUSTED_PROXIES is empty): uvicorn does not bound the size of "
            "request heads or the time a client takes to send one (slowloris)",
            "serve behind nginx or HAProxy with head limits (docs/deployment.md), set "
            "TRUSTED_PROXIES to its address, or --ignore server-limits",
        )
    ]


def _environment_findings(settings: Settings, app: App, var: Callable[[str], str]) -> list[Finding]:
    """BRACE_ENV, the secret key and debug: what start-up in prod would refuse."""
    from ..config import SECRET_KEY_FIX, secret_key_problem

    found: list[Finding] = []
    env = getattr(settings, "env", "dev")
    if env != "prod":
        found.append(
            Finding(
                "warning",
                "env",
                f"BRACE_ENV is {env!r}, so start-up does not refuse unsafe settings",
                "set BRACE_ENV=prod on the servers",
            )
        )
    secret = secret_key_problem(getattr(settings, "secret_key", None))
    if secret is not None:
        found.append(
            Finding("error", "secret-key", f"{var('secret_key')} {secret}", SECRET_KEY_FIX)
        )
    if getattr(settings, "debug", False):
        found.append(
            Finding(
                "error",
                "debug",
                f"{var('debug')} is on: error pages would show tracebacks and internals",
                f"set {var('debug')}=false",
            )
        )
    if app.debug:
        found.append(
            Finding(
                "error",
                "debug",
                "the App runs with debug=True: error pages would show tracebacks and internals",
                "build it with App(debug=settings.debug) and DEBUG off",
            )
        )
    return found


def _host_findings(settings: Settings, app: App, var: Callable[[str], str]) -> list[Finding]:
    """ALLOWED_HOSTS and TrustedHostMiddleware: forged Host headers must be refused."""
    from ..middleware import TrustedHostMiddleware

    found: list[Finding] = []
    hosts = list(getattr(settings, "allowed_hosts", None) or [])
    trusted = _middleware(app, TrustedHostMiddleware)
    if not hosts:
        found.append(
            Finding(
                "error",
                "allowed-hosts",
                f"{var('allowed_hosts')} is empty",
                f"list the host names the site answers to: {var('allowed_hosts')}=example.com",
            )
        )
    elif "*" in hosts:
        found.append(
            Finding(
                "warning",
                "allowed-hosts",
                f"{var('allowed_hosts')} allows any host ('*')",
                "list the real host names, so forged Host headers are refused",
            )
        )
    if not trusted:
        found.append(
            Finding(
                "warning",
                "trusted-host",
                "no TrustedHostMiddleware: requests for any Host are served (password-reset "
                "links and caches can be poisoned through a forged Host header)",
                "app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts), "
                "added first",
            )
        )
    elif any("*" in list(options.get("allowed_hosts", ("*",))) for options in trusted):
        found.append(
            Finding(
                "warning",
                "trusted-host",
                "TrustedHostMiddleware allows any host ('*')",
                "pass allowed_hosts=settings.allowed_hosts",
            )
        )
    return found


def _session_findings(app: App) -> list[Finding]:
    """Each SessionMiddleware: its cookie, its CSRF check and its signing keys."""
    from ..config import SECRET_KEY_FIX
    from ..sessions import SessionMiddleware

    found: list[Finding] = []
    for options in _middleware(app, SessionMiddleware):
        if options.get("https_only") is False:
            found.append(
                Finding(
                    "error",
                    "session-cookie",
                    "SessionMiddleware(https_only=False): the session cookie is sent over plain "
                    "HTTP too, where it can be read",
                    "drop https_only=False (Secure cookies are the default outside debug)",
                )
            )
        if options.get("csrf") is False:
            found.append(
                Finding(
                    "error",
                    "csrf",
                    "SessionMiddleware(csrf=False): other sites can post forms as a logged-in user",
                    "drop csrf=False; exempt single webhooks with @csrf_exempt instead",
                )
            )
        problem = _session_secret_problem(options.get("secret_key"))
        if problem is not None:
            found.append(
                Finding(
                    "error",
                    "session-secret",
                    f"the SessionMiddleware secret_key {problem}",
                    f"pass secret_key=settings.secret_key; {SECRET_KEY_FIX}",
                )
            )
    return found


def _session_secret_problem(keys: Any) -> str | None:
    """The first weak key among a SessionMiddleware's `secret_key` (one key or several)."""
    from ..config import secret_key_problem

    for key in [keys] if isinstance(keys, str) else list(keys or ()):
        problem = secret_key_problem(key)
        if problem is not None:
            return problem
    return None


def _security_header_findings(app: App) -> list[Finding]:
    """HSTS and the HTTPS redirect: browsers should never talk plain HTTP to the site."""
    from ..middleware import HTTPSRedirectMiddleware, SecurityHeadersMiddleware

    found: list[Finding] = []
    headers = _middleware(app, SecurityHeadersMiddleware)
    if not headers:
        found.append(
            Finding(
                "warning",
                "hsts",
                "no SecurityHeadersMiddleware: no HSTS, nosniff or framing protection",
                "app.add_middleware(SecurityHeadersMiddleware)",
            )
        )
    elif any(options.get("hsts") is False for options in headers):
        found.append(
            Finding(
                "warning",
                "hsts",
                "SecurityHeadersMiddleware(hsts=False): browsers may still try plain HTTP",
                "drop hsts=False once the site is served only over HTTPS",
            )
        )
    if not _middleware(app, HTTPSRedirectMiddleware):
        found.append(
            Finding(
                "warning",
                "https-redirect",
                "no HTTPSRedirectMiddleware: plain http:// requests are served as they are",
                "app.add_middleware(HTTPSRedirectMiddleware), or redirect at the proxy and "
                "ignore this with --ignore https-redirect",
            )
        )
    return found


def _database_findings(settings: Settings, app: App) -> list[Finding]:
    """One warning when a configured database (a *database_url setting or the app's) is SQLite."""
    urls: list[tuple[str, str]] = []
    for f in type(settings).fields():
        value = getattr(settings, f.name, None)
        if isinstance(value, str) and f.name.endswith(("database_url", "db_url")):
            urls.append((f.env_name, value))
    database = app.extensions.get("brace.db")
    if database is not None:
        urls.append(("the app's Database", str(database.url)))
    for where, url in urls:
        if _is_sqlite(url):
            return [
                Finding(
                    "warning",
                    "database",
                    f"{where} is SQLite: one file on one machine, one writer at a time",
                    "use PostgreSQL in production: DATABASE_URL=postgresql+asyncpg://...",
                )
            ]
    return []


def _find_settings(spec: str, created: Sequence[Settings], app: App) -> Settings:
    from ..config import Settings

    if created:
        return created[-1]
    module = importlib.import_module(spec.partition(":")[0])
    for value in vars(module).values():
        if isinstance(value, Settings):
            return value
    return Settings()


def _print(findings: Iterable[Finding]) -> None:
    for finding in findings:
        color = "red" if finding.level == "error" else "yellow"
        label = click.style(f"{finding.level.upper()}", fg=color, bold=True)
        click.echo(f"{label} [{finding.id}] {finding.message}")
        click.echo(f"    fix: {finding.fix}")


@click.command()
@click.option("--deploy", is_flag=True, help="Run the production checklist as well.")
@click.option(
    "--app",
    "app_path",
    default=None,
    help="The app as module:attribute (default: BRACE_APP or app:app).",
)
@click.option(
    "--settings",
    "settings_path",
    default=None,
    help="The Settings instance as module:attribute (default: the one the app creates).",
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="ID",
    help="Skip a finding by its id (repeatable), e.g. --ignore https-redirect.",
)
def check(
    deploy: bool, app_path: str | None, settings_path: str | None, ignore: tuple[str, ...]
) -> None:
    """Check that the app loads and its settings are valid; --deploy adds the production
    checklist. Exits with status 1 when an error is found."""
    from ..config import Settings, SettingsError, collect_settings, production_problems

    spec = app_spec(app_path)
    with collect_settings() as created:
        app = load_checked_app(spec)
        try:
            if settings_path:
                module_name, _, attribute = settings_path.partition(":")
                settings = getattr(importlib.import_module(module_name), attribute or "settings")
                if not isinstance(settings, Settings):
                    raise click.ClickException(f"{settings_path} is not a brace Settings")
            else:
                settings = _find_settings(spec, created, app)
        except SettingsError as exc:
            raise settings_error(exc) from None
    routes = len(app.all_routes)
    click.echo(f"{spec}: {routes} routes, settings {type(settings).__name__} ({settings.env})")
    if deploy:
        findings = deploy_findings(settings, app)
    elif settings.env == "prod":
        # Start-up would refuse these (brace check itself lets them through to list them).
        findings = [
            Finding(
                "error",
                "production",
                f"{name}: {problem}",
                "start-up refuses BRACE_ENV=prod until then",
            )
            for name, problem in production_problems(settings)
        ]
    else:
        findings = []
    findings = [f for f in findings if f.id not in ignore]
    _print(findings)
    errors = sum(1 for f in findings if f.level == "error")
    warnings = len(findings) - errors
    title = "Deployment checklist" if deploy else "Check"
    if not findings:
        click.echo(f"{title}: no problems found.")
        return
    click.echo(f"{title}: {errors} error(s), {warnings} warning(s).")
    if errors:
        raise SystemExit(1)

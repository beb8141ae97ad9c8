"""`brace check [--deploy]`: a deliberately bad app has every misconfiguration found, with
its fix; a well-configured one passes; errors exit with status 1."""

import importlib
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from brace import App, Settings
from brace.cli import main
from brace.cli._check import Finding, deploy_findings
from brace.middleware import SecurityHeadersMiddleware, TrustedHostMiddleware
from brace.sessions import SessionMiddleware

SECRET = "q8Zr3vN1xT5bLk0PmW7yHc2sJd9fGa4E"

GOOD = """
from brace import App, Settings
from brace.db import Database
from brace.middleware import (
    HTTPSRedirectMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostMiddleware,
)
from brace.sessions import SessionMiddleware


class AppSettings(Settings):
    database_url: str = "postgresql+asyncpg://app@db/app"


settings = AppSettings()
app = App(debug=settings.debug)
app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
app.add_middleware(HTTPSRedirectMiddleware)
app.add_middleware(SecurityHeadersMiddleware)
app.add_middleware(SessionMiddleware, secret_key=settings.secret_key)
db = Database(settings.database_url, app=app)


@app.get("/")
async def home() -> str:
    return "home"
"""

BAD = """
from brace import App, Settings
from brace.db import Database
from brace.middleware import SecurityHeadersMiddleware
from brace.sessions import SessionMiddleware


class AppSettings(Settings):
    env_prefix = "SHOP_"
    database_url: str = "sqlite+aiosqlite:///./shop.db"


settings = AppSettings()
app = App(debug=True)
app.add_middleware(SecurityHeadersMiddleware, hsts=False)
app.add_middleware(
    SessionMiddleware, secret_key="change-me-please-now", https_only=False, csrf=False
)
db = Database("sqlite+aiosqlite:///./shop.db", app=app)
"""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def ids(output: str) -> list[str]:
    return [line.split("[", 1)[1].split("]", 1)[0] for line in output.splitlines() if "] " in line]


def test_well_configured_app_passes(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app(GOOD)
    monkeypatch.setenv("BRACE_ENV", "prod")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("ALLOWED_HOSTS", "example.com")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.2")  # a proxy bounds request heads
    code, output = invoke("check", "--deploy")
    assert code == 0, output
    assert "app:app: 5 routes, settings AppSettings (prod)" in output
    assert "Deployment checklist: no problems found." in output


def test_bad_app_has_every_misconfiguration_found(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app(BAD)
    monkeypatch.setenv("BRACE_ENV", "prod")
    monkeypatch.setenv("SHOP_DEBUG", "1")
    monkeypatch.setenv("SHOP_SECRET_KEY", "short")
    code, output = invoke("check", "--deploy")
    assert code == 1
    found = ids(output)
    assert found == [
        "secret-key",
        "debug",
        "debug",
        "allowed-hosts",
        "trusted-host",
        "session-cookie",
        "csrf",
        "session-secret",
        "hsts",
        "https-redirect",
        "database",
        "server-limits",
    ]
    assert "ERROR [secret-key] SHOP_SECRET_KEY is too short (5 characters" in output
    assert "token_urlsafe(50)" in output  # each finding comes with its fix
    assert "ERROR [debug] SHOP_DEBUG is on" in output and "set SHOP_DEBUG=false" in output
    assert "ERROR [debug] the App runs with debug=True" in output
    assert "ERROR [allowed-hosts] SHOP_ALLOWED_HOSTS is empty" in output
    assert "WARNING [trusted-host] no TrustedHostMiddleware" in output
    assert "ERROR [session-cookie] SessionMiddleware(https_only=False)" in output
    assert "ERROR [csrf] SessionMiddleware(csrf=False)" in output
    assert "ERROR [session-secret] the SessionMiddleware secret_key is a placeholder" in output
    assert "WARNING [hsts] SecurityHeadersMiddleware(hsts=False)" in output
    assert "WARNING [database] SHOP_DATABASE_URL is SQLite" in output
    assert "WARNING [server-limits] no proxy in front" in output and "slowloris" in output
    assert output.count("    fix: ") == len(found)
    assert "Deployment checklist: 7 error(s), 5 warning(s)." in output
    assert "Traceback" not in output


def test_ignore_skips_findings(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app(GOOD)
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("ALLOWED_HOSTS", "example.com")
    code, output = invoke("check", "--deploy")
    assert code == 0 and ids(output) == ["env", "server-limits"]  # warnings do not fail
    assert "Deployment checklist: 0 error(s), 2 warning(s)." in output
    code, output = invoke("check", "--deploy", "--ignore", "env", "--ignore", "server-limits")
    assert code == 0 and "no problems found" in output


def test_plain_check_loads_the_app(write_app: Callable[..., Path]) -> None:
    write_app(BAD)
    code, output = invoke("check")
    assert code == 0, output
    assert "settings AppSettings (dev)" in output and "Check: no problems found." in output


def test_plain_check_in_prod_reports_what_start_up_would_refuse(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app(BAD)
    monkeypatch.setenv("BRACE_ENV", "prod")
    code, output = invoke("check")
    assert code == 1
    assert ids(output) == ["production", "production"]
    assert "SHOP_SECRET_KEY: is missing" in output and "SHOP_ALLOWED_HOSTS: is empty" in output


def test_invalid_settings_are_reported(write_app: Callable[..., Path], project: Path) -> None:
    write_app(BAD)
    (project / ".env").write_text("SHOP_DEBUG=perhaps\n")
    code, output = invoke("check", "--deploy")
    assert code == 1
    assert "SHOP_DEBUG: expected true or false" in output and "Traceback" not in output


def test_settings_from_another_module(write_app: Callable[..., Path]) -> None:
    write_app(
        "from brace import Settings\n"
        "class Conf(Settings):\n"
        "    env_prefix = 'X_'\n"
        "conf = Conf()\n"
        "broken = Conf\n",
        "conf",
    )
    write_app("from brace import App\napp = App()\n")
    code, output = invoke("check", "--settings", "conf:conf")
    assert code == 0 and "settings Conf (dev)" in output
    code, output = invoke("check", "--settings", "conf:broken")
    assert code == 1 and "conf:broken is not a brace Settings" in output


def test_settings_found_in_the_app_module_when_already_imported(
    write_app: Callable[..., Path], project: Path
) -> None:
    write_app(BAD)
    sys.path.insert(0, str(project))  # the project fixture restores sys.path
    importlib.import_module("app")  # imported before the check: no new Settings is made

    code, output = invoke("check")
    assert code == 0 and "settings AppSettings (dev)" in output


def test_base_settings_when_the_app_declares_none(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app("from brace import App\napp = App()\n")
    monkeypatch.setenv("SECRET_KEY", "tiny")
    code, output = invoke("check", "--deploy")
    assert code == 1
    assert "settings Settings (dev)" in output
    assert "ERROR [secret-key] SECRET_KEY is too short" in output


def test_wrong_app_path(project: Path) -> None:
    code, output = invoke("check", "--app", "missing:app")
    assert code == 1 and "cannot import 'missing'" in output


def test_a_missing_extra_is_one_line_naming_it(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An app on PostgreSQL, on a machine without asyncpg (None in sys.modules: not importable).
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    write_app(
        "from brace import App\nfrom brace.db import Database\napp = App()\n"
        "db = Database('postgresql+asyncpg://u@127.0.0.1/x', app=app)\n"
    )
    code, output = invoke("check", "--deploy", "--app", "app:app")
    assert code == 1
    assert output.strip() == (
        'Error: the app needs asyncpg, which is not installed: pip install "brace[postgres]"'
    )
    # An import error of the app's own is still shown as it is.
    write_app("import not_a_library_anyone_has\n", module="own")
    result = CliRunner().invoke(main, ["check", "--app", "own:app"])
    assert isinstance(result.exception, ModuleNotFoundError)


# -- the checklist without the command -------------------------------------------------------


def settings(**values: object) -> Settings:
    base: dict[str, object] = {"env": "prod", "secret_key": SECRET, "allowed_hosts": ["a.com"]}
    return Settings(_environ={}, _env_file=None, **{**base, **values})


def finding_ids(found: list[Finding]) -> list[str]:
    # server-limits depends on the environment (TRUSTED_PROXIES): the CLI tests cover it.
    return [f.id for f in found if f.id != "server-limits"]


def test_wildcard_hosts_are_warnings() -> None:
    app = App()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])
    found = deploy_findings(settings(allowed_hosts=["*"]), app)
    wildcard = [f for f in found if f.id in ("allowed-hosts", "trusted-host")]
    assert [(f.id, f.level) for f in wildcard] == [
        ("allowed-hosts", "warning"),
        ("trusted-host", "warning"),
    ]
    assert "TrustedHostMiddleware allows any host" in wildcard[1].message


def test_session_secret_lists_and_hsts_auto() -> None:
    app = App()
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["a.com"])
    app.add_middleware(SecurityHeadersMiddleware)  # hsts=None: on outside debug
    app.add_middleware(SessionMiddleware, secret_key=[SECRET, "old-but-short-key"])
    found = deploy_findings(settings(), app)
    assert finding_ids(found) == ["session-secret", "https-redirect"]


def test_database_url_from_a_db_url_field() -> None:
    class WithDB(Settings):
        db_url: str = "sqlite:///x.db"

    found = deploy_findings(
        WithDB(_environ={}, _env_file=None, env="prod", secret_key=SECRET, allowed_hosts=["a"]),
        App(),
    )
    assert "database" in finding_ids(found)
    database = next(f for f in found if f.id == "database")
    assert database.message.startswith("DB_URL is SQLite") and "PostgreSQL" in database.fix


def test_invalid_settings_in_the_settings_module(
    write_app: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_app(
        "from brace import Settings\nclass Conf(Settings):\n    n: int = 0\nconf = Conf()\n",
        "conf2",
    )
    write_app("from brace import App\napp = App()\n")
    monkeypatch.setenv("N", "many")
    code, output = invoke("check", "--settings", "conf2:conf")
    assert code == 1 and "N: expected an integer, got 'many'" in output

"""Rules that keep the core a floor others can stand on: declared options only, scope keys
declared once, and the import contracts (run by scripts/test.sh as `lint-imports`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from brace import App, Router
from brace.core.scope import ScopeKey, declared_keys
from brace.websockets import WebSocket

SRC = Path(__file__).resolve().parents[1] / "src" / "brace"


def test_an_unknown_route_option_is_a_type_error_naming_the_closest_one() -> None:
    app = App()

    async def create() -> None: ...

    with pytest.raises(TypeError, match=r"unknown option 'status'; did you mean 'status_code'"):
        app.post("/x", status=201)(create)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"unknown option 'rate_limit'"):
        app.add_route("/y", create, rate_limit="5/minute")  # type: ignore[call-arg]

    router = Router()
    with pytest.raises(TypeError, match=r"'tag'; did you mean 'tags'"):
        router.get("/z", tag=["a"])(create)  # type: ignore[call-arg]


def test_an_unknown_websocket_or_app_option_is_a_type_error_too() -> None:
    app = App()
    with pytest.raises(TypeError, match=r"unknown option 'max_size'; did you mean"):

        @app.websocket("/ws", max_size=10)  # type: ignore[call-arg]
        async def live(ws: WebSocket) -> None: ...

    with pytest.raises(TypeError, match=r"App\(\): unknown option 'debgu'; did you mean 'debug'"):
        App(debgu=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"unknown option 'max_body'"):
        App(max_body=10)  # type: ignore[call-arg]


def test_brace_app_keeps_its_documented_options() -> None:
    app = App(title="x", version="1", max_body_size=10, debug=True, openapi_url=None)
    assert app.max_body_size == 10 and app.debug and app.openapi_url is None


def test_a_scope_key_is_declared_once() -> None:
    with pytest.raises(ValueError, match="already declared"):
        ScopeKey("brace.path_values")
    assert "brace.before_handler" in declared_keys()


def test_every_brace_scope_key_in_the_source_is_a_declared_one() -> None:
    """`scope["brace.…"]` literals are how 29 keys once spread across files: keys are
    declared with ScopeKey (one module for the core, one place in each battery)."""
    literal = re.compile(r"""scope(?:\.get|\.setdefault|\.pop)?[\[(]\s*["']brace\.""")
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in SRC.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []


def test_no_module_grows_past_600_lines_and_the_app_stays_under_400() -> None:
    sizes = {
        str(path.relative_to(SRC)): len(path.read_text().splitlines()) for path in SRC.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 600} == {}
    assert sizes["core/app.py"] < 400

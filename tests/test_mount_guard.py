"""Router and app `dependencies=` guard what is mounted under them too: static directories
and sub-apps answer only when the dependencies let the request through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import pytest

from brace import App, Depends, Header, HTTPError, Router
from brace.staticfiles import StaticFiles
from brace.testing import TestClient, WebSocketDenied
from brace.websockets import WebSocket

events: list[str] = []


async def login_required(x_user: Annotated[str | None, Header()] = None) -> str:
    if x_user != "ada":
        raise HTTPError(403, "staff only")
    return x_user


async def audited() -> AsyncIterator[None]:
    events.append("open")
    yield
    events.append("close")


def make_app(tmp_path: Path) -> App:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "payroll.csv").write_text("name,salary\nada,1\n")
    sub = App()

    @sub.get("/numbers")
    async def numbers() -> dict[str, int]:
        events.append("sub")
        return {"n": 1}

    @sub.websocket("/live")
    async def live(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hi")

    admin = Router("/admin", dependencies=[Depends(login_required), Depends(audited)])

    @admin.get("/stats")
    async def stats() -> str:
        return "stats"

    admin.mount("/reports", StaticFiles(reports))
    admin.mount("/sub", sub)
    app = App()
    app.include(admin)
    app.mount("/open", StaticFiles(reports))  # outside the router: not guarded
    return app


GUARDED = ["/admin/stats", "/admin/reports/payroll.csv", "/admin/sub/numbers"]


@pytest.mark.parametrize("path", GUARDED)
def test_the_router_dependencies_guard_its_routes_and_its_mounts(tmp_path: Path, path: str) -> None:
    events.clear()
    with TestClient(make_app(tmp_path)) as client:
        refused = client.get(path)
        assert refused.status_code == 403
        assert refused.json()["detail"] == "staff only"
        assert "sub" not in events
        assert client.get(path, headers={"x-user": "ada"}).status_code == 200
        assert client.get("/open/payroll.csv").status_code == 200


def test_generator_dependencies_close_after_the_mounted_app_answered(tmp_path: Path) -> None:
    events.clear()
    with TestClient(make_app(tmp_path)) as client:
        assert client.get("/admin/sub/numbers", headers={"x-user": "ada"}).json() == {"n": 1}
    assert events == ["open", "sub", "close"]


def test_a_guarded_mount_refuses_a_websocket_handshake(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        with pytest.raises(WebSocketDenied):
            with client.websocket_connect("/admin/sub/live"):
                pass
        with client.websocket_connect("/admin/sub/live", headers={"x-user": "ada"}) as ws:
            assert ws.receive_text() == "hi"


def test_app_dependencies_guard_app_static(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "app.css").write_text("body{}")
    app = App(dependencies=[Depends(login_required)])
    app.static("/static", tmp_path / "static")
    with TestClient(app) as client:
        assert client.get("/static/app.css").status_code == 403
        assert client.get("/static/app.css", headers={"x-user": "ada"}).text == "body{}"

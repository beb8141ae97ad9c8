"""Flash messages survive one redirect and are shown once, escaped, in templates."""

from pathlib import Path

from brace import App, HTMLResponse, RedirectResponse, Request
from brace.sessions import SessionMiddleware, flash, get_flashed_messages
from brace.templating import Templates
from brace.testing import TestClient

SECRET = "a-test-secret-that-is-long-enough"


def test_flash_then_redirect_then_shown_once(tmp_path: Path) -> None:
    (tmp_path / "list.html").write_text(
        "{% for category, message in get_flashed_messages(with_categories=True) %}"
        "<p class='{{ category }}'>{{ message }}</p>{% endfor %}"
    )
    templates = Templates(tmp_path)
    app = App()
    app.add_middleware(SessionMiddleware, secret_key=SECRET)

    @app.post("/entries")
    async def create(request: Request, text: str) -> RedirectResponse:
        flash(request, f"Saved {text}", "success")
        flash(request, "Check your email", "warning")
        return RedirectResponse("/entries", 303)

    @app.get("/entries")
    async def listing(request: Request) -> HTMLResponse:
        return templates.render(request, "list.html")

    @app.get("/warnings")
    async def warnings(request: Request) -> list[str]:
        return get_flashed_messages(request, category_filter=("warning",))

    with TestClient(app, follow_redirects=True) as client:
        page = client.post("/entries", params={"text": "<script>alert(1)</script>"}).text
        assert "<p class='success'>Saved &lt;script&gt;alert(1)&lt;/script&gt;</p>" in page
        assert "<p class='warning'>Check your email</p>" in page
        assert client.get("/entries").text == ""  # shown once

        client.post("/entries", params={"text": "x"}, follow_redirects=False)
        assert client.get("/warnings").json() == ["Check your email"]
        assert "Saved x" in client.get("/entries").text  # other categories stay queued


def test_templates_without_sessions_show_no_messages(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("[{{ get_flashed_messages()|length }}]")
    templates = Templates(tmp_path)
    app = App()

    @app.get("/")
    async def index(request: Request) -> HTMLResponse:
        return templates.render(request, "page.html")

    with TestClient(app) as client:
        assert client.get("/").text == "[0]"

"""Error pages as a person sees them, in headless Chromium."""

from collections.abc import Callable
from typing import Any

import pytest

from brace import App, HTTPError

pytestmark = pytest.mark.browser


def make_app(debug: bool) -> App:
    app = App(debug=debug)

    @app.get("/gone")
    async def gone() -> None:
        raise HTTPError(410, 'This page moved <img src=x onerror="window.pwned=1">')

    @app.get("/crash")
    async def crash() -> None:
        password = "hunter2"
        raise RuntimeError(f"cannot connect with {password}")

    return app


def test_http_error_page_renders_and_does_not_run_injected_markup(
    serve: Callable[[Any], str], browser: Any
) -> None:
    base = serve(make_app(debug=False))
    page = browser.new_page()
    response = page.goto(base + "/gone")
    assert response.status == 410
    assert page.title() == "410 Gone"
    assert page.locator("h1").inner_text() == "410 Gone"
    assert "This page moved <img" in page.locator("main").inner_text()
    assert page.evaluate("window.pwned") is None  # the detail was escaped, not executed
    missing = page.goto(base + "/nowhere")
    assert missing.status == 404
    assert page.locator("h1").inner_text() == "404 Not Found"
    page.close()


def test_production_500_page_leaks_nothing(serve: Callable[[Any], str], browser: Any) -> None:
    base = serve(make_app(debug=False))
    page = browser.new_page()
    response = page.goto(base + "/crash")
    assert response.status == 500
    text = page.locator("body").inner_text()
    assert "500 Internal Server Error" in text
    assert "hunter2" not in text and "RuntimeError" not in text
    assert "Request id" in text
    page.close()


def test_debug_traceback_page_shows_the_failing_line(
    serve: Callable[[Any], str], browser: Any
) -> None:
    base = serve(make_app(debug=True))
    page = browser.new_page()
    response = page.goto(base + "/crash")
    assert response.status == 500
    assert page.locator("h1").inner_text() == "500 RuntimeError"
    assert "cannot connect with hunter2" in page.locator("h2").first.inner_text()
    highlighted = page.locator(".hl").all_inner_texts()
    assert any(
        'raise RuntimeError(f"cannot connect with {password}")' in line for line in highlighted
    )
    assert "GET /crash" in page.locator("main").inner_text()
    page.close()

"""Swagger UI and ReDoc in headless Chromium, with every non-local request blocked."""

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import pytest

from brace import App, Query

pytestmark = pytest.mark.browser


class Pet(msgspec.Struct):
    id: int
    name: str


def make_app() -> App:
    app = App(title="Pet store")

    @app.get("/pets/{pet_id:int}", tags=["pets"])
    async def get_pet(pet_id: int, verbose: Annotated[bool, Query()] = False) -> Pet:
        """Fetch one pet."""
        return Pet(pet_id, "Rex")

    return app


def offline_page(browser: Any, base: str) -> tuple[Any, list[str]]:
    """A page whose requests outside the test server are aborted and recorded."""
    page = browser.new_page()
    blocked: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return page, blocked


def test_swagger_ui_renders_and_try_it_out_works_offline(
    serve: Callable[[Any], str], browser: Any
) -> None:
    base = serve(make_app())
    page, blocked = offline_page(browser, base)
    page.goto(base + "/docs")
    operation = page.locator(".opblock-summary-path", has_text="/pets/{pet_id}")
    operation.wait_for(timeout=15000)
    assert page.locator(".info .title").inner_text().startswith("Pet store")
    operation.click()
    page.get_by_role("button", name="Try it out").click()
    page.locator("tr[data-param-name='pet_id'] input").fill("7")
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=15000)
    assert status.inner_text().strip().startswith("200")
    body = page.locator(".live-responses-table .response-col_description pre").first
    assert '"name": "Rex"' in body.inner_text()
    assert blocked == []
    page.close()


def test_redoc_renders_offline(serve: Callable[[Any], str], browser: Any) -> None:
    base = serve(make_app())
    page, blocked = offline_page(browser, base)
    page.goto(base + "/redoc")
    heading = page.locator("h2", has_text="Fetch one pet.")
    heading.wait_for(timeout=15000)
    assert heading.is_visible()
    assert page.get_by_text("/pets/{pet_id}").first.is_visible()
    assert "Pet store" in page.locator("h1").first.inner_text()
    assert [url for url in blocked if not url.startswith("data:")] == []
    page.close()

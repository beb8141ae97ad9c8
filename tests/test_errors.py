"""Errors: problem+json for APIs, HTML for browsers, debug pages, handlers and logging."""

import pytest

from brace import App, HTTPError, JSONResponse, PlainTextResponse, Request
from brace.errors import wants_html
from brace.testing import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def failing_app(debug: bool = False) -> App:
    app = App(debug=debug)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPError(418, "Short and stout <script>alert(1)</script>", {"X-Pot": "1"})

    @app.get("/crash")
    async def crash() -> None:
        secret = "hunter2"  # noqa: F841 - must never reach a non-debug client
        raise KeyError("database password is hunter2")

    return app


def test_http_error_is_problem_json_for_api_clients() -> None:
    with TestClient(failing_app()) as client:
        response = client.get("/teapot")
    assert response.status_code == 418
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-pot"] == "1"
    assert response.json() == {
        "type": "about:blank",
        "title": "I'm a Teapot",
        "status": 418,
        "detail": "Short and stout <script>alert(1)</script>",
    }


def test_http_error_is_an_escaped_html_page_for_browsers() -> None:
    with TestClient(failing_app()) as client:
        response = client.get("/teapot", headers=BROWSER)
    assert response.status_code == 418
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;" in response.text
    assert "<script>" not in response.text


def test_unhandled_errors_leak_nothing_without_debug(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(failing_app()) as client:
        api = client.get("/crash", headers={"x-request-id": "req-123"})
        page = client.get("/crash", headers=BROWSER)
    for response in (api, page):
        assert response.status_code == 500
        assert "hunter2" not in response.text
        assert "KeyError" not in response.text
    assert api.json()["request_id"] == "req-123"
    # Logged once per request, with method, path and request id.
    assert caplog.text.count("Unhandled KeyError in GET /crash (request id req-123)") == 1
    assert caplog.text.count("Unhandled KeyError") == 2


def test_hostile_request_ids_are_not_reflected(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(failing_app()) as client:
        response = client.get("/crash", headers={"x-request-id": "<script>x</script>"})
    assert "<script>" not in response.text
    assert "<script>" not in caplog.text


def test_debug_shows_a_traceback_page_to_browsers_and_details_to_api_clients() -> None:
    with TestClient(failing_app(debug=True)) as client:
        page = client.get("/crash", headers=BROWSER)
        api = client.get("/crash")
    assert page.status_code == 500
    assert "KeyError" in page.text
    assert "secret = &quot;hunter2&quot;" in page.text  # the source line, escaped
    assert "test_errors.py" in page.text
    assert api.json()["detail"].startswith("KeyError")
    assert any("hunter2" in line for line in api.json()["traceback"])


def test_exception_handlers_by_type_and_status() -> None:
    app = failing_app()

    class OutOfStock(Exception):
        pass

    @app.get("/stock")
    async def stock() -> None:
        raise OutOfStock("widgets")

    @app.exception_handler(OutOfStock)
    async def out_of_stock(request: Request, exc: OutOfStock) -> JSONResponse:
        return JSONResponse({"out_of": str(exc), "path": request.path}, status_code=409)

    @app.exception_handler(404)
    def not_found(request: Request, exc: HTTPError) -> PlainTextResponse:
        return PlainTextResponse(f"nothing at {request.path}", status_code=404)

    @app.exception_handler(KeyError)
    async def key_error(request: Request, exc: KeyError) -> dict[str, str]:
        return {"error": "missing key"}

    with TestClient(app) as client:
        stock_response = client.get("/stock")
        missing = client.get("/nowhere")
        crash = client.get("/crash")
    assert stock_response.status_code == 409
    assert stock_response.json() == {"out_of": "widgets", "path": "/stock"}
    assert missing.text == "nothing at /nowhere"
    assert crash.status_code == 500
    assert crash.json() == {"error": "missing key"}


def test_a_failing_exception_handler_falls_back_to_a_500(caplog: pytest.LogCaptureFixture) -> None:
    app = failing_app()

    @app.exception_handler(418)
    async def broken(request: Request, exc: HTTPError) -> None:
        raise RuntimeError("handler bug")

    with TestClient(app) as client:
        response = client.get("/teapot")
    assert response.status_code == 500
    assert "Unhandled RuntimeError" in caplog.text


def test_500_handler_catches_everything_unhandled() -> None:
    app = failing_app()

    @app.exception_handler(500)
    async def everything(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("sorry", status_code=500)

    with TestClient(app) as client:
        assert client.get("/crash").text == "sorry"
        assert client.get("/teapot").status_code == 418  # HTTP errors keep their own answer


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("text/html", True),
        (BROWSER["accept"], True),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=bogus", False),
    ],
)
def test_content_negotiation(accept: str, html: bool) -> None:
    assert wants_html(accept) is html


def test_the_unhandled_error_log_line_cannot_be_forged_through_the_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.get("/{name}")
    async def boom(name: str) -> str:
        raise RuntimeError("boom")

    with TestClient(app) as client, caplog.at_level("ERROR", logger="brace"):
        assert client.get("/x%0D%0AINFO%20forged%20line").status_code == 500
    (record,) = [r for r in caplog.records if r.getMessage().startswith("Unhandled")]
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message
    assert "\\r\\nINFO forged line" in message

"""Logging: text and JSON lines, request ids on records, the access log and its absence."""

import asyncio
import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

import brace.logging
from brace import App, HTTPError
from brace.logging import (
    ACCESS_LOG_ENV,
    AccessLogMiddleware,
    JSONFormatter,
    RequestIdFilter,
    TextFormatter,
    access_log_enabled,
    configure,
    dict_config,
    with_access_log,
)
from brace.middleware import RequestIDMiddleware
from brace.testing import TestClient

log = logging.getLogger("tests.logging")


@pytest.fixture(autouse=True)
def clean_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ACCESS_LOG_ENV, raising=False)
    monkeypatch.delenv("BRACE_ENV", raising=False)
    brace.logging.reset()
    yield
    brace.logging.reset()


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def make_app(**options: object) -> App:
    app = App(**options)  # type: ignore[arg-type]

    @app.get("/hello/{name}")
    async def hello(name: str) -> dict[str, str]:
        log.info("saying hello to %s", name)
        return {"hello": name}

    @app.get("/sync")
    def sync() -> str:
        log.warning("from a worker thread")
        return "ok"

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    @app.get("/missing")
    async def missing() -> None:
        raise HTTPError(404)

    return app


def test_nothing_configured_adds_no_layer() -> None:
    app = make_app()
    app.compile()
    assert not isinstance(app._entry, AccessLogMiddleware)
    assert access_log_enabled() is False


def test_text_access_log_with_request_ids() -> None:
    stream = io.StringIO()
    configure("text", "INFO", access_log=True, stream=stream)
    app = make_app()
    with TestClient(app) as client:
        assert client.get("/hello/ada", headers={"X-Request-ID": "req-1"}).status_code == 200
        assert client.get("/sync").status_code == 200
        assert client.get("/missing").status_code == 404
    assert isinstance(app._entry, AccessLogMiddleware)
    out = lines(stream)
    handler_line = next(line for line in out if "saying hello to ada" in line)
    assert " INFO    tests.logging [req-1] saying hello to ada" in handler_line
    access = [line for line in out if " brace.access " in line]
    assert "[req-1] GET /hello/ada 200 " in access[0] and access[0].endswith("ms")
    assert "GET /sync 200" in access[1]
    sync_line = next(line for line in out if "from a worker thread" in line)
    rid = access[1].split("[", 1)[1].split("]", 1)[0]
    assert f"[{rid}] from a worker thread" in sync_line and rid != "-"  # contextvars copied
    assert "GET /missing 404" in access[2]


def test_access_log_uses_the_request_id_middlewares_id() -> None:
    stream = io.StringIO()
    configure("json", access_log=True, stream=stream)
    app = make_app()
    app.add_middleware(RequestIDMiddleware)
    with TestClient(app) as client:
        response = client.get("/hello/bo")
    records = [json.loads(line) for line in lines(stream)]
    access = next(r for r in records if r["logger"] == "brace.access")
    handler = next(r for r in records if r["logger"] == "tests.logging")
    assert access["request_id"] == handler["request_id"] == response.headers["x-request-id"]
    assert access["method"] == "GET" and access["path"] == "/hello/bo"
    assert access["status"] == 200 and access["duration_ms"] >= 0
    assert access["level"] == "INFO" and access["time"].endswith("+00:00")
    assert access["message"].startswith("GET /hello/bo 200 ")


def test_unhandled_error_is_logged_as_json_with_the_id_and_a_500_access_line() -> None:
    stream = io.StringIO()
    configure("json", access_log=True, stream=stream)
    app = make_app()
    with TestClient(app, raise_app_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
    records = [json.loads(line) for line in lines(stream)]
    error = next(r for r in records if r["level"] == "ERROR")
    access = next(r for r in records if r["logger"] == "brace.access")
    assert "RuntimeError: kaboom" in error["exception"]
    assert error["request_id"] == access["request_id"] and access["status"] == 500


def test_request_ids_without_the_access_log() -> None:
    stream = io.StringIO()
    configure("text", access_log=False, stream=stream)
    app = make_app()
    with TestClient(app) as client:
        client.get("/hello/cy", headers={"X-Request-ID": "abc"})
    out = lines(stream)
    assert any("[abc] saying hello to cy" in line for line in out)
    assert not any("brace.access" in line for line in out)


def test_access_log_default_follows_brace_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRACE_ENV", "dev")
    configure(stream=io.StringIO())
    assert access_log_enabled() is True
    monkeypatch.setenv("BRACE_ENV", "prod")
    configure(stream=io.StringIO())
    assert access_log_enabled() is False
    assert len([h for h in logging.getLogger().handlers if h is brace.logging._state.handler]) == 1


def test_access_log_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ACCESS_LOG_ENV, "1")
    assert access_log_enabled() is True
    inner = make_app()
    assert isinstance(with_access_log(inner), AccessLogMiddleware)
    monkeypatch.setenv(ACCESS_LOG_ENV, "0")
    assert with_access_log(inner) is inner


def test_access_log_escapes_control_characters(caplog: pytest.LogCaptureFixture) -> None:
    configure(access_log=True, stream=io.StringIO())
    app = make_app()
    with caplog.at_level(logging.INFO, logger="brace.access"), TestClient(app) as client:
        client.get("/hello/a%0D%0Aforged%20line")
    (record,) = [r for r in caplog.records if r.name == "brace.access"]
    assert "\n" not in record.getMessage() and "\\r\\nforged" in record.getMessage()


def test_silenced_access_logger_costs_no_formatting(caplog: pytest.LogCaptureFixture) -> None:
    configure(access_log=True, stream=io.StringIO())
    logging.getLogger("brace.access").setLevel(logging.WARNING)
    try:
        with caplog.at_level(logging.INFO), TestClient(make_app()) as client:
            client.get("/hello/x")
    finally:
        logging.getLogger("brace.access").setLevel(logging.NOTSET)
    assert not [r for r in caplog.records if r.name == "brace.access"]


def test_mounted_brace_app_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    configure(access_log=True, stream=io.StringIO())
    outer = App()
    outer.mount("/api", make_app())
    with caplog.at_level(logging.INFO, logger="brace.access"), TestClient(outer) as client:
        assert client.get("/api/hello/z").status_code == 200
    access = [r.getMessage() for r in caplog.records if r.name == "brace.access"]
    assert len(access) == 1 and access[0].startswith("GET /api/hello/z 200")


def test_lifespan_and_websocket_pass_through() -> None:
    configure(access_log=True, stream=io.StringIO())
    app = make_app()
    app.add_middleware(RequestIDMiddleware)
    with TestClient(app) as client:  # lifespan through the layer
        assert client.get("/hello/q").status_code == 200


def test_client_disconnect_before_response_logs_a_dash(caplog: pytest.LogCaptureFixture) -> None:
    async def silent(scope: object, receive: object, send: object) -> None:
        return None

    layer = AccessLogMiddleware(silent)
    scope = {"type": "http", "method": "GET", "path": "/gone", "headers": []}

    async def nothing() -> dict[str, str]:
        return {}

    async def ignore(message: object) -> None:
        return None

    with caplog.at_level(logging.INFO, logger="brace.access"):
        asyncio.run(layer(scope, nothing, ignore))
    (record,) = caplog.records
    assert record.getMessage().startswith("GET /gone - ")


def test_formatters_on_plain_records() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hi %s", ("there",), None)
    record.custom = {"a": object()}  # extra data JSON cannot hold is written as text
    text = TextFormatter().format(record)
    assert text.endswith("WARNING x [-] hi there")
    data = json.loads(JSONFormatter().format(record))
    assert data["message"] == "hi there" and "request_id" not in data
    assert data["custom"]["a"].startswith("<object object")
    record.stack_info = "Stack (most recent call last):\n  here"
    assert "stack" in json.loads(JSONFormatter().format(record))
    record.exc_info = None
    record.exc_text = "Traceback: cached"
    assert json.loads(JSONFormatter().format(record))["exception"] == "Traceback: cached"


def test_json_formatter_survives_unencodable_values() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "bad \udcff byte", None, None)
    record.path = "/\udcff"
    record.count = 3
    record.missing = None
    data = json.loads(JSONFormatter().format(record))
    assert data["message"] == "bad \\udcff byte" and data["path"] == "/\\udcff"
    assert data["count"] == 3 and data["missing"] is None


def test_request_id_filter_outside_a_request() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    assert RequestIdFilter().filter(record) and record.request_id == "-"  # type: ignore[attr-defined]


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        configure("xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown log level 'loud'"):
        configure(level="loud")
    with pytest.raises(ValueError, match="unknown log format"):
        dict_config("yaml")  # type: ignore[arg-type]


def test_dict_config_works_with_dictconfig(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logging.config.dictConfig(dict_config("json", "warning"))
        logging.getLogger("tests.dict").warning("through dictConfig")
        logging.getLogger("tests.dict").info("below the level")
        assert brace.logging._state.request_ids is True
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    err = capsys.readouterr().err.strip().splitlines()
    assert [json.loads(line)["message"] for line in err] == ["through dictConfig"]


def test_configure_with_a_numeric_level_and_reset_restores() -> None:
    root = logging.getLogger()
    before = root.level
    handler = configure(level=logging.DEBUG, stream=io.StringIO())
    assert root.level == logging.DEBUG and handler in root.handlers
    brace.logging.reset()
    assert root.level == before and handler not in root.handlers


def test_websocket_passes_through_and_escaping_errors_log_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    async def inner(scope: dict[str, object], receive: object, send: object) -> None:
        seen.append(str(scope["type"]))
        if scope["type"] == "http":
            raise RuntimeError("escaped")

    layer = AccessLogMiddleware(inner)  # type: ignore[arg-type]

    async def receive() -> dict[str, str]:
        return {}

    async def send(message: object) -> None:
        return None

    with caplog.at_level(logging.INFO, logger="brace.access"):
        asyncio.run(layer({"type": "websocket", "path": "/ws"}, receive, send))
        with pytest.raises(RuntimeError, match="escaped"):
            http = {"type": "http", "method": "POST", "path": "/x", "headers": []}
            asyncio.run(layer(http, receive, send))
    assert seen == ["websocket", "http"]
    (record,) = caplog.records
    assert record.getMessage().startswith("POST /x 500 ")

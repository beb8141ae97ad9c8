"""The app the real-server tests serve with uvicorn (imported by uvicorn, not by pytest)."""

import os

from brace import App, Request

app = App(max_body_size=1024)


@app.get("/echo/{word}")
async def echo(word: str) -> dict[str, str]:
    return {"word": word}


@app.post("/json")
async def json_body(request: Request) -> dict[str, object]:
    return {"got": await request.json()}


@app.get("/query")
async def query(request: Request) -> dict[str, object]:
    return {"q": request.query_params.get("q")}


@app.get("/health")
async def health() -> str:
    return "ok"


if os.environ.get("BRACE_TEST_FAIL_STARTUP"):

    @app.on_startup
    async def fail() -> None:
        raise ConnectionError("cannot reach the database at db.internal:5432")

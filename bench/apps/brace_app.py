"""brace: the same endpoints through the public API only (no internals, no tricks)."""

from brace import App, Request

app = App()


@app.get("/plaintext")
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}")
async def user(id: int, request: Request) -> dict[str, object]:
    return {"id": id, "q": request.query_params.get("q")}

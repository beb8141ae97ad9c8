"""brace_app's /json and /users answers from brace.cache's response cache (memory): what a
hit costs (issue 19 asks a cached JSON route >= 1.0x plaintext speed on a hit)."""

from brace import App
from brace.cache import Cache

app = App()
Cache(app)


@app.get("/plaintext")
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json", opts={"cache": 3600})
async def json_() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}", opts={"cache": 3600})
async def user(id: int, q: str | None = None) -> dict[str, object]:
    return {"id": id, "q": q}

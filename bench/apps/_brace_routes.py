"""Builds a brace app with N dynamic routes `/r{i}/{id:int}/items` plus the three endpoints.

The routes scenario requests the LAST registered route (`/r{N-1}/42/items`), the worst case for
a router that scans routes in order; a radix tree should not care how many routes exist.
"""

from collections.abc import Awaitable, Callable

from brace import App, Request


def _route_handler(i: int) -> Callable[[int], Awaitable[dict[str, int]]]:
    async def handler(id: int) -> dict[str, int]:
        return {"route": i, "id": id}

    # Distinct names so that route names (url_for) never collide.
    handler.__name__ = handler.__qualname__ = f"route_{i}"
    return handler


def build(n: int) -> App:
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

    # Registered after the three endpoints so that /r{n-1}/... is the last route of all.
    for i in range(n):
        app.get(f"/r{i}/{{id:int}}/items")(_route_handler(i))
    return app

"""Starlette: no built-in validation -> JSON parsed and checked by hand."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from apps._fortunes import TEMPLATE, TEMPLATES, fortunes

templates = Jinja2Templates(directory=TEMPLATES)


def _valid_item(d):
    return (
        isinstance(d, dict)
        and isinstance(d.get("name"), str)
        and isinstance(d.get("price"), (int, float))
        and not isinstance(d.get("price"), bool)
        and isinstance(d.get("tags"), list)
        and all(isinstance(t, str) for t in d["tags"])
    )


async def plaintext(request):
    return PlainTextResponse("Hello, World!")


async def json_ep(request):
    return JSONResponse({"message": "Hello, World!"})


async def user(request):
    return JSONResponse({"id": request.path_params["id"], "q": request.query_params.get("q")})


async def items(request):
    try:
        d = await request.json()
    except ValueError:
        d = None
    if not _valid_item(d):
        return JSONResponse({"error": "invalid"}, status_code=422)
    return JSONResponse(
        {"name": d["name"], "price": float(d["price"]), "tags": d["tags"]}, status_code=201
    )


async def fortunes_ep(request):
    return templates.TemplateResponse(request, TEMPLATE, {"fortunes": fortunes()})


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json_ep),
        Route("/users/{id:int}", user),
        Route("/items", items, methods=["POST"]),
        Route("/fortunes", fortunes_ep),
    ]
)

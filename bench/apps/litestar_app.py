"""Litestar: msgspec.Struct validation for POST /items."""

import msgspec
from litestar import Litestar, MediaType, get, post
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from apps._fortunes import TEMPLATE, TEMPLATES, fortunes


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json_ep() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/users/{id:int}")
async def user(id: int, q: str | None = None) -> dict:
    return {"id": id, "q": q}


@post("/items")  # POST defaults to 201
async def items(data: Item) -> Item:
    return data


@get("/fortunes")
async def fortunes_ep() -> Template:
    return Template(template_name=TEMPLATE, context={"fortunes": fortunes()})


app = Litestar(
    route_handlers=[plaintext, json_ep, user, items, fortunes_ep],
    template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
    openapi_config=None,
    debug=False,
)

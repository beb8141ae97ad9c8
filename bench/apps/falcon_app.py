"""Falcon (ASGI): no built-in validation, so POST /items is checked by hand."""

import falcon
import falcon.asgi
import jinja2

from apps._fortunes import TEMPLATE, TEMPLATES, fortunes

# Falcon has no templating of its own: a Jinja2 environment, autoescaping .html templates.
env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape()
)


def _valid_item(d):
    return (
        isinstance(d, dict)
        and isinstance(d.get("name"), str)
        and isinstance(d.get("price"), (int, float))
        and not isinstance(d.get("price"), bool)
        and isinstance(d.get("tags"), list)
        and all(isinstance(t, str) for t in d["tags"])
    )


class Plain:
    async def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class Json:
    async def on_get(self, req, resp):
        resp.media = {"message": "Hello, World!"}


class User:
    async def on_get(self, req, resp, id):
        resp.media = {"id": id, "q": req.get_param("q")}


class Items:
    async def on_post(self, req, resp):
        d = await req.get_media()
        if not _valid_item(d):
            raise falcon.HTTPUnprocessableEntity()
        resp.media = {"name": d["name"], "price": float(d["price"]), "tags": d["tags"]}
        resp.status = falcon.HTTP_201


class Fortunes:
    async def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_HTML
        resp.text = env.get_template(TEMPLATE).render(fortunes=fortunes())


app = falcon.asgi.App()
app.add_route("/plaintext", Plain())
app.add_route("/json", Json())
app.add_route("/users/{id:int}", User())
app.add_route("/items", Items())
app.add_route("/fortunes", Fortunes())

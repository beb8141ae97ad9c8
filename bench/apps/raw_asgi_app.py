"""Raw ASGI reference: no framework, minimal hand-written callable (orjson, plain Jinja2)."""

from urllib.parse import parse_qs

import jinja2
import orjson

from apps._fortunes import TEMPLATE, TEMPLATES, fortunes

TEXT_HDRS = [(b"content-type", b"text/plain; charset=utf-8")]
JSON_HDRS = [(b"content-type", b"application/json")]
HTML_HDRS = [(b"content-type", b"text/html; charset=utf-8")]
HELLO = b"Hello, World!"
# The template is compiled once, at import; a render is then one call into Jinja2.
FORTUNES_TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
).get_template(TEMPLATE)


async def _send(send, status, headers, body):
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _valid_item(d):
    return (
        isinstance(d, dict)
        and isinstance(d.get("name"), str)
        and isinstance(d.get("price"), (int, float))
        and not isinstance(d.get("price"), bool)
        and isinstance(d.get("tags"), list)
        and all(isinstance(t, str) for t in d["tags"])
    )


async def app(scope, receive, send):
    t = scope["type"]
    if t == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif m["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    method = scope["method"]
    if method == "GET":
        if path == "/plaintext":
            return await _send(send, 200, TEXT_HDRS, HELLO)
        if path == "/json":
            return await _send(send, 200, JSON_HDRS, orjson.dumps({"message": "Hello, World!"}))
        if path.startswith("/users/"):
            try:
                uid = int(path[7:])
            except ValueError:
                return await _send(send, 404, TEXT_HDRS, b"Not Found")
            q = parse_qs(scope["query_string"].decode("latin-1")).get("q", [None])[0]
            return await _send(send, 200, JSON_HDRS, orjson.dumps({"id": uid, "q": q}))
        if path == "/fortunes":
            html = FORTUNES_TEMPLATE.render(fortunes=fortunes()).encode()
            return await _send(send, 200, HTML_HDRS, html)
    elif method == "POST" and path == "/items":
        body = b""
        more = True
        while more:
            m = await receive()
            body += m.get("body", b"")
            more = m.get("more_body", False)
        try:
            d = orjson.loads(body)
        except orjson.JSONDecodeError:
            d = None
        if not _valid_item(d):
            return await _send(send, 422, JSON_HDRS, b'{"error":"invalid"}')
        out = {"name": d["name"], "price": float(d["price"]), "tags": d["tags"]}
        return await _send(send, 201, JSON_HDRS, orjson.dumps(out))
    return await _send(send, 404, TEXT_HDRS, b"Not Found")

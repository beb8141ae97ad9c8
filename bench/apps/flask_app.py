"""Flask (WSGI), served by gunicorn's sync worker: the classic deployment brace is compared with.

No built-in validation, so POST /items is checked by hand. Templates come from the shared
`bench/templates` folder through Flask's own Jinja2 environment (`render_template`), which
autoescapes `.html` templates.
"""

from flask import Flask, Response, jsonify, render_template, request

from apps._fortunes import TEMPLATE, TEMPLATES, fortunes

app = Flask(__name__, template_folder=str(TEMPLATES))


def _valid_item(d):
    return (
        isinstance(d, dict)
        and isinstance(d.get("name"), str)
        and isinstance(d.get("price"), (int, float))
        and not isinstance(d.get("price"), bool)
        and isinstance(d.get("tags"), list)
        and all(isinstance(t, str) for t in d["tags"])
    )


@app.get("/plaintext")
def plaintext():
    return Response("Hello, World!", mimetype="text/plain")


@app.get("/json")
def json_ep():
    return jsonify(message="Hello, World!")


@app.get("/users/<int:id>")
def user(id):
    return jsonify(id=id, q=request.args.get("q"))


@app.post("/items")
def items():
    d = request.get_json(silent=True)
    if not _valid_item(d):
        return jsonify(error="invalid"), 422
    return jsonify(name=d["name"], price=float(d["price"]), tags=d["tags"]), 201


@app.get("/fortunes")
def fortunes_ep():
    return render_template(TEMPLATE, fortunes=fortunes())

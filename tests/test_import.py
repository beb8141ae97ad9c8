"""`import brace` loads the core only: no optional dependency, no battery."""

import subprocess
import sys

OPTIONAL = ["jinja2", "sqlalchemy", "redis", "httpx", "click", "pydantic", "multipart", "uvicorn"]


def test_import_brace_pulls_in_no_optional_dependency() -> None:
    code = (
        "import sys, brace; "
        f"print([m for m in {OPTIONAL!r} if m in sys.modules]); "
        "print(sorted(m for m in sys.modules if m.startswith('brace')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded, brace_modules = result.stdout.splitlines()
    assert loaded == "[]"
    assert "brace.testing" not in brace_modules
    assert "brace.middleware" not in brace_modules
    assert "brace.staticfiles" not in brace_modules
    # The OpenAPI plugin is installed by brace.App; the document builder loads on first use.
    assert "brace.openapi._schema" not in brace_modules
    assert "brace.asyncapi" not in brace_modules


def test_public_api_is_the_curated_all() -> None:
    import brace

    for name in brace.__all__:
        assert getattr(brace, name) is not None
    assert "App" in brace.__all__ and "Request" in brace.__all__


def test_serving_an_app_without_pydantic_models_does_not_import_pydantic() -> None:
    code = (
        "import sys\n"
        "from brace import App\n"
        "from brace.testing import TestClient\n"
        "app = App()\n"
        "@app.post('/items')\n"
        "async def items(limit: int = 1, payload: dict[str, int] | None = None) -> dict:\n"
        "    return {}\n"
        "with TestClient(app) as client:\n"
        "    client.post('/items', json={'a': 1})\n"
        "    client.get('/openapi.json')\n"
        "print('pydantic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"

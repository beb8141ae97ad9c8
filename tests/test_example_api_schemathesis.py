"""Schemathesis drives examples/api.py from its own OpenAPI document: no server errors and no
response that contradicts the document."""

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "api.py"


def load_app() -> Any:
    spec = importlib.util.spec_from_file_location("example_api_st", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["example_api_st"] = module
    spec.loader.exec_module(module)
    return module.app


app = load_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate(headers={"X-API-Key": "let-me-in"})

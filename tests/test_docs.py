"""Every Python example in the docs runs: the docs cannot drift from the behaviour."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples may create files (static dirs, databases)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    blocks = BLOCK.findall(page.read_text())
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{page.name}[block {number}]", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{page.name} block {number} failed: {exc!r}\n{code}") from exc


def test_there_are_examples_to_run() -> None:
    assert sum(len(BLOCK.findall(p.read_text())) for p in PAGES) > 20

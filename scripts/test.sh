#!/usr/bin/env bash
# Run the whole test suite in its own virtual environment (created on first use).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv || exit 1
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null || exit 1
.venv/bin/python -m pip install --quiet -e '.[dev]' || exit 1
# Lint, format and type checks are part of the suite: a finding fails it like a test.
.venv/bin/ruff check src tests examples bench || exit 1
.venv/bin/ruff format --check src tests examples bench || exit 1
.venv/bin/mypy || exit 1
# The floor plan (docs/architecture.md): the core imports no battery, and no import cycles.
.venv/bin/lint-imports --no-cache || exit 1
.venv/bin/python -m pytest --cov=brace --cov-branch --cov-report=term --cov-fail-under=90 "$@"
status=$?
case $status in
  0) echo "tests passed" ;;
  5) echo "pytest collected no tests: treating that as a failure" >&2; exit 1 ;;
  *) echo "tests failed (pytest exit code $status)" >&2 ;;
esac
exit $status

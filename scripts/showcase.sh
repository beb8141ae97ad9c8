#!/usr/bin/env bash
# Serve the showcase app on http://127.0.0.1:8000 from its own virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet -e '.[server]'
exec .venv/bin/uvicorn --app-dir examples hello:app --host 127.0.0.1 --port "${PORT:-8000}" "$@"

#!/usr/bin/env bash
# Serve the showcase app on http://127.0.0.1:8000 from its own virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet -e '.[server,templates,forms,db,auth,cli,ratelimit,cache]'
# Development mode: the site is served over plain http://, so its session cookie is not Secure.
export BRACE_ENV="${BRACE_ENV:-dev}"
echo "brace showcase: http://127.0.0.1:${PORT:-8000} (sign up, post, watch the live feed; /docs)"
# An open page keeps the live feed's connection: Ctrl+C waits at most 3 s for it to close.
exec .venv/bin/uvicorn --app-dir examples/site app:app --host 127.0.0.1 --port "${PORT:-8000}" \
  --timeout-graceful-shutdown 3 "$@"

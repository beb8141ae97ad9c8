#!/usr/bin/env bash
# Refresh the Swagger UI and ReDoc files shipped inside brace (so /docs works offline).
# Usage: scripts/update-docs-assets.sh [swagger-ui-dist version] [redoc version]
set -euo pipefail
cd "$(dirname "$0")/.."
swagger="${1:-5}"
redoc="${2:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund \
  "swagger-ui-dist@$swagger" "redoc@$redoc" >/dev/null)
static=src/brace/openapi/static
m="$work/node_modules"
cp "$m"/swagger-ui-dist/{swagger-ui-bundle.js,swagger-ui-bundle.js.LICENSE.txt,swagger-ui.css,LICENSE,NOTICE} \
  "$static/swagger-ui/"
cp "$m"/redoc/bundles/{redoc.standalone.js,redoc.standalone.js.LICENSE.txt} "$m/redoc/LICENSE" \
  "$static/redoc/"
# ReDoc loads its footer logo from cdn.redoc.ly; a blank inline image keeps the docs from
# making any third-party request (and from leaking who reads them).
sed -i 's#https://cdn.redoc.ly/redoc/logo-mini.svg#data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==#g' \
  "$static/redoc/redoc.standalone.js"
node -e "console.log('swagger-ui-dist', require('$m/swagger-ui-dist/package.json').version)" \
  >"$static/VERSIONS"
node -e "console.log('redoc', require('$m/redoc/package.json').version)" >>"$static/VERSIONS"
echo "redoc patched: footer logo inlined (no request to cdn.redoc.ly)" >>"$static/VERSIONS"
cat "$static/VERSIONS"

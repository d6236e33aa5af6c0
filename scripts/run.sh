#!/usr/bin/env bash
# `make run`: migrate, create the demo "Customers" template when there is no template yet, and
# start the server in the foreground (Ctrl-C stops it cleanly). SHEETD_* variables apply.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/sheetd}
export SHEETD_DATA_DIR=${SHEETD_DATA_DIR:-./var}
mkdir -p "$SHEETD_DATA_DIR"

"$bin" migrate >/dev/null
if [ "$("$bin" template list --count)" = "0" ]; then
  "$bin" template create --file examples/customers.template.json
fi
exec "$bin" serve

#!/usr/bin/env bash
# Installs whatever sheetd needs that this Debian machine lacks, then the front-end packages.
# Idempotent and quiet when everything is present: it checks with dpkg first and only calls
# apt-get for what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential meson ninja-build pkgconf clang clang-format libclang-rt-14-dev
  libmicrohttpd-dev libzip-dev libexpat1-dev libgsf-1-dev libcsv-dev libxlsxwriter-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql libjansson-dev libsodium-dev
  libcriterion-dev libcurl4-openssl-dev
  nodejs chromium zip unzip time python3 git iproute2
  wrk curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from another source than Debian's package; npm then comes with it.
if command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}")
fi
command -v npm >/dev/null 2>&1 || missing+=(npm)
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser-test driver (playwright-core) needs Node.js 20 or newer.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "deps: Node.js $node_major is too old for the browser tests; install Node.js 20 or newer" >&2
  exit 2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "deps: npm ci"
  npm ci --silent --no-audit --no-fund >/dev/null
fi

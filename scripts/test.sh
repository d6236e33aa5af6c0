#!/usr/bin/env bash
# Runs every suite and sums them: the C suites (unit, HTTP, corpus, mustache spec) built with
# AddressSanitizer + UBSan, then the browser tests against the release binary.
# Usage: scripts/test.sh ASAN_BUILD_DIR RELEASE_BUILD_DIR. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
asan=${1:-build-asan}
release=${2:-build}
logs="$asan/test-logs"

if [ ! -f "$asan/build.ninja" ]; then
  CC=${CC:-gcc} meson setup "$asan" --buildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false -Dfailpoints=true >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
# The process-model tests kill workers at chosen instants (base/failpoint.h).
meson configure "$asan" -Dfailpoints=true >/dev/null
if ! ninja -C "$asan" >"$asan/ninja.log" 2>&1; then
  cat "$asan/ninja.log"
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

rm -rf "$logs" && mkdir -p "$logs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export SHEETD_BIN="$PWD/$release/sheetd"
[ -d ../shared ] && export SHEETD_SHARED_DIR="$(cd ../shared && pwd)"

passed=0
failed=0
skipped=0

# The house style is .clang-format: a tracked C file it would change counts as one failure
# (`make format` fixes them all).
if command -v clang-format >/dev/null 2>&1; then
  unformatted=$(git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run -Werror 2>&1 |
    sed -n -E 's/^([^:]+\.[ch]):[0-9]+:[0-9]+: error: .*/\1/p' | sort -u)
  if [ -n "$unformatted" ]; then
    echo "FAIL format: these files differ from .clang-format (run make format):"
    sed 's/^/     /' <<<"$unformatted"
    failed=$((failed + 1))
  else
    echo "ok   format: every tracked C file follows .clang-format"
  fi
else
  echo "FAIL format: clang-format is missing (scripts/deps.sh installs it)"
  failed=$((failed + 1))
fi

# A throwaway PostgreSQL for the store contract suites and the PostgreSQL end-to-end tests:
# started here, stopped and removed on every way out (also when a suite fails or the run is
# interrupted). Its directory must be reachable by the unprivileged user the server runs as.
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/sheetd-test-pg.XXXXXX")
chmod 755 "$pg_dir"
trap 'scripts/pg.sh stop "$pg_dir/pg"; rm -rf "$pg_dir"' EXIT
trap 'exit 130' INT TERM
if url=$(scripts/pg.sh start "$pg_dir/pg"); then
  export SHEETD_TEST_PG_URL="$url"
else
  echo "FAIL postgres: the test server did not start (see the lines above)"
  failed=$((failed + 1))
fi

# Criterion prints "Synthesis: Tested: T | Passing: P | Failing: F | Crashing: C".
for exe in $(find "$asan/tests" -type f -perm -u+x -name 'test_*' | sort); do
  name=$(basename "$exe")
  log="$logs/$name.log"
  timeout 900 "$exe" --jobs 2 >"$log" 2>&1
  rc=$?
  line=$(grep -a 'Synthesis:' "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "FAIL $name (exit $rc, no summary; see $log)"
    tail -20 "$log"
    failed=$((failed + 1))
    continue
  fi
  p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
  f=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$line")
  c=$(sed -E 's/.*Crashing: ([0-9]+).*/\1/' <<<"$line")
  s=$(grep -ac '\[SKIP\]' "$log" || true)
  passed=$((passed + p))
  failed=$((failed + f + c))
  skipped=$((skipped + s))
  if [ $((f + c)) -gt 0 ] || [ $rc -ne 0 -a $((f + c)) -eq 0 ]; then
    echo "FAIL $name: $line (exit $rc)"
    grep -a -E '\[FAIL\]|\[----\]|ERROR|Sanitizer|runtime error' "$log" | head -40
    [ $((f + c)) -eq 0 ] && failed=$((failed + 1))
  else
    echo "ok   $name: $p passed$([ "${s:-0}" -gt 0 ] && echo ", $s skipped")"
  fi
  grep -a '\[SKIP\]' "$log" | head -5 | sed 's/^/     /'
done

# Browser tests: Node's test runner ends with "# pass N" and "# fail N".
if ls tests/browser/*.test.mjs >/dev/null 2>&1; then
  log="$logs/browser.log"
  timeout 1200 node --test --test-concurrency=1 tests/browser/ >"$log" 2>&1
  rc=$?
  p=$(grep -a -E '^# pass [0-9]+' "$log" | awk '{print $3}' | tail -1)
  f=$(grep -a -E '^# fail [0-9]+' "$log" | awk '{print $3}' | tail -1)
  s=$(grep -a -E '^# skipped [0-9]+' "$log" | awk '{print $3}' | tail -1)
  p=${p:-0}; f=${f:-0}; s=${s:-0}
  if [ -z "$(grep -a -E '^# pass' "$log")" ] || { [ $rc -ne 0 ] && [ "$f" -eq 0 ]; }; then
    f=$((f + 1))
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$f" -gt 0 ]; then
    echo "FAIL browser: $p passed, $f failed"
    grep -a -B2 -A20 'not ok' "$log" | head -80
  else
    echo "ok   browser: $p passed$([ "${s:-0}" -gt 0 ] && echo ", $s skipped")"
  fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

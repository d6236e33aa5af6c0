#!/usr/bin/env bash
# `make fuzz`: builds every libFuzzer target with clang (ASan + UBSan) and runs each for a short
# time (FUZZ_SECONDS, default 30) from its seeds in tests/fuzz/seeds/<target>/, plus the real
# workbooks of ../shared/corpus/calamine for the spreadsheet readers when that folder exists.
# Crashes are written to build-fuzz/findings/<target>/ and make the script fail.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-30}

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" --buildtype=debug -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null || exit 2
fi
ninja -C "$build" >/dev/null || { ninja -C "$build" | tail -30; exit 2; }

corpus_ext() {
  case $1 in
    fuzz_xlsx_zip) echo "xlsx xlsm" ;;
    fuzz_xls) echo "xls" ;;
    fuzz_ods) echo "ods" ;;
    *) echo "" ;;
  esac
}

status=0
for exe in "$build"/tests/fuzz/fuzz_*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  name=$(basename "$exe")
  work="$build/fuzz-corpus/$name"
  findings="$build/findings/$name"
  mkdir -p "$work" "$findings"
  [ -d "tests/fuzz/seeds/$name" ] && cp -n tests/fuzz/seeds/"$name"/* "$work"/ 2>/dev/null
  for ext in $(corpus_ext "$name"); do
    [ -d ../shared/corpus/calamine ] && cp -n ../shared/corpus/calamine/*."$ext" "$work"/ 2>/dev/null
  done
  echo "fuzz: $name for ${seconds}s ($(ls "$work" | wc -l) inputs)"
  if ! "$exe" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$findings/" -print_final_stats=0 >"$findings/log.txt" 2>&1; then
    echo "fuzz: $name FOUND A PROBLEM (see $findings/)"
    grep -E "ERROR|SUMMARY" "$findings/log.txt" | head -5
    status=1
  else
    grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$findings/log.txt" | tail -1
  fi
done
exit $status

#!/usr/bin/env bash
# `make bench`: measures sheetd against its targets and against the readers people use today,
# all in one run, and prints ratios (absolute seconds vary between machines; ratios don't).
#
#   read    100k: sheetd read vs ExcelJS stream (>= 6x faster) and a bare libzip+expat pass
#                 over the same sheet XML (within 1.5x)
#   read    1M:   peak RSS <= 2 x shared-strings text + 32 MB
#   import  100k: >= 5x faster than ExcelJS parsing only, >= 30x faster than roo; RSS <= 64 MB
#   import  1M:   <= 11x the 100k time
#   export  1M:   <= 1.3x libxlsxwriter alone writing the same cells
#   keyed   100k: an import whose unique email is also the upsert key, into an empty table,
#                 <= 1.3x the time of `sheetd read` (a plain import, no unique column and no
#                 key, is printed next to it)
#
# BENCH_PEERS=0 skips the peers (for a quick run); BENCH_ROWS_LARGE changes the 1M size;
# BENCH_RUNS (default 3) is how many times each sheetd and baseline command runs (best kept).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$PWD/$build/sheetd"
shared=../shared/bench
out=bench/out
large=${BENCH_ROWS_LARGE:-1000000}
mkdir -p "$out"
[ -f "$shared/gen_xlsx.c" ] || { echo "bench: ../shared/bench is missing; nothing to compare with"; exit 2; }

cflags="-O2 -Wall"
cc $cflags -o "$out/gen_xlsx" "$shared/gen_xlsx.c" $(pkg-config --cflags --libs xlsxwriter) || exit 2
cc $cflags -o "$out/bare_zip_expat" bench/bare_zip_expat.c $(pkg-config --cflags --libs libzip expat) || exit 2
cc $cflags -o "$out/xlsxwriter_baseline" bench/xlsxwriter_baseline.c $(pkg-config --cflags --libs xlsxwriter) || exit 2

small="$out/customers_100k.xlsx"
big="$out/customers_${large}.xlsx"
[ -f "$small" ] || "$out/gen_xlsx" "$small" 100000
[ -f "$big" ] || "$out/gen_xlsx" "$big" "$large"

# measure NAME CMD... : runs CMD (stdout discarded) $runs times and keeps the best time and
# the largest peak RSS, so one slow moment of a shared machine does not decide a ratio; when
# $prepare names a function, it runs untimed before each run. The peers run once each: at
# several seconds a run, a moment's noise matters far less to them.
declare -A secs rss
runs=${BENCH_RUNS:-3}
measure() {
  local name=$1; shift
  local best="" peak=0 t s k
  for ((i = 0; i < runs; i++)); do
    [ -n "${prepare:-}" ] && "$prepare"
    /usr/bin/time -o "$out/time.txt" -f "%e %M" "$@" >/dev/null 2>"$out/stderr.txt" ||
      echo "  ($name exited non-zero: $(tail -1 "$out/stderr.txt"))"
    t=$(tail -1 "$out/time.txt")
    s=$(awk '{print $1}' <<<"$t"); k=$(awk '{print $2}' <<<"$t")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    [ "$k" -gt "$peak" ] && peak=$k
  done
  secs[$name]=$best
  rss[$name]=$peak
  printf "  %-28s %8.2f s %9.1f MB\n" "$name" "${secs[$name]}" "$(awk "BEGIN{print ${rss[$name]}/1024}")"
}
ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"n/a\" }"; }
verdict() { awk "BEGIN{ exit !($1) }" && echo PASS || echo FAIL; }

echo "sheetd benchmarks ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
echo "reading"
measure read_100k "$bin" read "$small" --format cells
measure bare_100k "$out/bare_zip_expat" "$small"
measure read_1M "$bin" read "$big" --format cells
measure bare_1M "$out/bare_zip_expat" "$big"

sst_bytes=$(unzip -p "$big" xl/sharedStrings.xml | python3 -c '
import re, sys
data = sys.stdin.read()
print(sum(len(m.encode()) for m in re.findall(r"<t[^>]*>([^<]*)</t>", data)))')

echo "importing (SQLite, examples/customers.template.json)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Each import starts from an empty table (a fresh data dir), so every run inserts every row.
fresh_data_dir() {
  rm -rf "$work/data"; mkdir -p "$work/data"
  SHEETD_DATA_DIR="$work/data" "$bin" template create --file examples/customers.template.json >/dev/null
}
import_run() { # name file
  prepare=fresh_data_dir SHEETD_DATA_DIR="$work/data" measure "$1" "$bin" import customers "$2"
}
import_run import_100k "$small"
import_run import_1M "$big"
# ---- keyed import ------------------------------------------------------------------------
# The same 100k rows through two templates that differ only in their key: none at all
# (bench/customers_plain.template.json) and a unique email that is also the upsert key
# (bench/customers_keyed.template.json), each into an empty table, next to reading the file.
echo "keyed import (100k, empty table each run)"
keyed_template=""
fresh_keyed_dir() {
  rm -rf "$work/keyed"; mkdir -p "$work/keyed"
  SHEETD_DATA_DIR="$work/keyed" "$bin" template create --file "$keyed_template" >/dev/null
}
keyed_run() { # name template
  keyed_template=$2 prepare=fresh_keyed_dir SHEETD_DATA_DIR="$work/keyed" \
    measure "$1" "$bin" import customers "$small"
}
keyed_run import_plain_100k bench/customers_plain.template.json
keyed_run import_keyed_100k bench/customers_keyed.template.json
measure read_again_100k "$bin" read "$small" --format cells
# the read to compare with: the better of the two reads of this run
if awk "BEGIN{exit !(${secs[read_again_100k]} < ${secs[read_100k]})}"; then
  keyed_read=${secs[read_again_100k]}
else
  keyed_read=${secs[read_100k]}
fi
echo "  plain import / read:          $(ratio "${secs[import_plain_100k]}" "$keyed_read")x"
r=$(ratio "${secs[import_keyed_100k]}" "$keyed_read")
echo "  keyed import / read:          ${r}x (target <= 1.3)    $(verdict "$r <= 1.3")"
# -------------------------------------------------------------------------------------------

echo "exporting"
SHEETD_DATA_DIR="$work/data" measure export_1M "$bin" export customers "$work/export.xlsx"
measure xlsxwriter_1M "$out/xlsxwriter_baseline" "$work/baseline.xlsx" "$large"

# ---- PostgreSQL (issue 11): the same 1M-row import into a throwaway PostgreSQL (COPY), next
# to SQLite's. BENCH_PG=0 skips it. The server is scripts/pg.sh's, with fsync on here so the
# comparison with SQLite (WAL, synchronous=NORMAL) is a fair one.
if [ "${BENCH_PG:-1}" != 0 ]; then
  echo "importing (PostgreSQL, same file)"
  pg_dir=$(mktemp -d)
  chmod 755 "$pg_dir"
  trap 'scripts/pg.sh stop "$pg_dir/pg"; rm -rf "$pg_dir" "$work"' EXIT
  if pg_url=$(PG_SH_FSYNC=on scripts/pg.sh start "$pg_dir/pg"); then
    pg_bench_url="$pg_url?options=-csearch_path%3Dbench"
    fresh_pg_schema() {
      psql "$pg_url" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench" >/dev/null
      SHEETD_DATA_DIR="$work/data" SHEETD_DATABASE_URL="$pg_bench_url" \
        "$bin" template create --file examples/customers.template.json >/dev/null
    }
    prepare=fresh_pg_schema SHEETD_DATA_DIR="$work/data" SHEETD_DATABASE_URL="$pg_bench_url" \
      measure import_pg_1M "$bin" import customers "$big"
    SHEETD_DATA_DIR="$work/data" SHEETD_DATABASE_URL="$pg_bench_url" \
      measure export_pg_1M "$bin" export customers "$work/export_pg.xlsx"
    echo "  import ${large} rows: SQLite ${secs[import_1M]} s, PostgreSQL ${secs[import_pg_1M]} s" \
      "($(ratio "${secs[import_pg_1M]}" "${secs[import_1M]}")x SQLite's time)"
    echo "  export ${large} rows: SQLite ${secs[export_1M]} s, PostgreSQL ${secs[export_pg_1M]} s" \
      "($(ratio "${secs[export_pg_1M]}" "${secs[export_1M]}")x SQLite's time)"
  else
    echo "  (the PostgreSQL server did not start; skipped)"
  fi
fi
# ---- end of the PostgreSQL block

if [ "${BENCH_PEERS:-1}" != 0 ]; then
  echo "peers (../shared/bench/peers.sh: parse only)"
  while read -r peer s k rows cells; do
    secs[peer_${peer}_100k]=$s; rss[peer_${peer}_100k]=$k
    printf "  %-28s %8.2f s %9.1f MB  (%s rows)\n" "${peer} 100k" "$s" "$(awk "BEGIN{print $k/1024}")" "$rows"
  done < <("$shared/peers.sh" "$small" exceljs sheetjs openpyxl pandas roo 2>/dev/null)
  while read -r peer s k rows cells; do
    secs[peer_${peer}_1M]=$s; rss[peer_${peer}_1M]=$k
    printf "  %-28s %8.2f s %9.1f MB  (%s rows)\n" "${peer} 1M" "$s" "$(awk "BEGIN{print $k/1024}")" "$rows"
  done < <("$shared/peers.sh" "$big" exceljs 2>/dev/null)
fi

echo
echo "targets"
r=$(ratio "${secs[peer_exceljs_100k]:-0}" "${secs[read_100k]}")
echo "  read 100k vs ExcelJS stream:  ${r}x faster (target >= 6)        $(verdict "$r >= 6")"
r=$(ratio "${secs[read_100k]}" "${secs[bare_100k]}")
echo "  read 100k vs bare zip+expat:  ${r}x the time (target <= 1.5)    $(verdict "$r <= 1.5")"
limit_kb=$(( (2 * sst_bytes) / 1024 + 32 * 1024 ))
echo "  read 1M peak RSS:             $((rss[read_1M] / 1024)) MB (target <= $((limit_kb / 1024)) MB = 2 x ${sst_bytes} B strings + 32 MB)  $(verdict "${rss[read_1M]} <= $limit_kb")"
r=$(ratio "${secs[peer_exceljs_100k]:-0}" "${secs[import_100k]}")
echo "  import 100k vs ExcelJS:       ${r}x faster (target >= 5)        $(verdict "$r >= 5")"
r=$(ratio "${secs[peer_roo_100k]:-0}" "${secs[import_100k]}")
echo "  import 100k vs roo:           ${r}x faster (target >= 30)       $(verdict "$r >= 30")"
echo "  import 100k peak RSS:         $((rss[import_100k] / 1024)) MB (target <= 64)  $(verdict "${rss[import_100k]} <= 65536")"
r=$(ratio "${secs[import_1M]}" "${secs[import_100k]}")
echo "  import 1M / import 100k:      ${r}x (target <= 11)              $(verdict "$r <= 11")"
r=$(ratio "${secs[import_keyed_100k]}" "$keyed_read")
echo "  keyed import 100k / read:     ${r}x the time (target <= 1.3)    $(verdict "$r <= 1.3")"
r=$(ratio "${secs[export_1M]}" "${secs[xlsxwriter_1M]}")
echo "  export 1M vs libxlsxwriter:   ${r}x the time (target <= 1.3)    $(verdict "$r <= 1.3")"
for p in sheetjs openpyxl pandas roo; do
  [ -n "${secs[peer_${p}_100k]:-}" ] && echo "  read 100k vs $p: $(ratio "${secs[peer_${p}_100k]}" "${secs[read_100k]}")x faster; import 100k vs $p: $(ratio "${secs[peer_${p}_100k]}" "${secs[import_100k]}")x faster"
done

# ---- background jobs (issue 7): latency, throughput, idle CPU, recovery, BullMQ/pg-boss ----
# In a script of its own (also runnable alone); it honours BENCH_PEERS too.
echo
scripts/bench_jobs.sh "$build"

# --- web and live updates (issue 8 §6): status.json, SSE fan-out and latency, a 1M-row upload
# through the browser's path. Its own script (scripts/bench_web.sh, runnable alone);
# BENCH_WEB=0 skips it.
if [ "${BENCH_WEB:-1}" != 0 ]; then
  echo
  scripts/bench_web.sh "$build"
fi

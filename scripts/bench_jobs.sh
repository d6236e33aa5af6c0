#!/usr/bin/env bash
# The background-job half of `make bench` (bench.sh runs it last; alone: scripts/bench_jobs.sh
# [BUILD_DIR]). Every measurement starts from a fresh SQLite data dir:
#
#   latency in-process     enqueue -> start p50/p99 of single no-op jobs on an idle pool of 2
#                          workers in the enqueuing process (bench/job_bench.c)   p50 <= 5 ms
#   latency cross-process  the same with the workers in a second process          p50 <= 100 ms
#   throughput             10,000 no-op jobs, 2 workers, enqueue included    >= BullMQ's jobs/s
#                          (three runs interleaved with three BullMQ runs, so that both see
#                          the same load of a shared machine; the medians are compared)
#   idle CPU               `sheetd work` with nothing to do, over 10 s            < 1 % of a core
#   recovery               `sheetd work` killed -9 mid-import of 1M CSV rows (progress shows
#                          some rows read, not all); a second one takes the job over: seconds
#                          from the kill to attempt 2 running (<= 35 s) and to "completed" by
#                          it, and the table must hold each row exactly once
#   peers                  ../shared/bench/job_peers.sh in the same run: BullMQ on a private
#                          redis and pg-boss on a throwaway PostgreSQL, measured the same way
#
# BENCH_PEERS=0 skips the peers, BENCH_PG=0 the PostgreSQL block; BENCH_JOBS_LATENCY (500) and
# BENCH_JOBS_THROUGHPUT (10000)
# change the number of jobs.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$PWD/$build/sheetd"
jb="$PWD/$build/bench/job_bench"
shared=../shared/bench
out=bench/out
mkdir -p "$out"
ninja -C "$build" sheetd bench/job_bench >/dev/null || exit 2

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fresh() { rm -rf "${work:?}/$1"; mkdir -p "$work/$1"; echo "$work/$1"; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { awk "BEGIN{ if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"n/a\" }"; }
verdict() { awk "BEGIN{ exit !($1) }" && echo PASS || echo FAIL; }
# field LINE NAME: the value after NAME in a "name value name value" line
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$1"; }

echo "background jobs (SQLite, fresh data dir each; $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"

nlat=${BENCH_JOBS_LATENCY:-500}
nthr=${BENCH_JOBS_THROUGHPUT:-10000}
inproc=$("$jb" latency "$(fresh latency)" "$nlat" 2>"$out/jobs_latency.log")
echo "  in-process:    $inproc"
cross=$("$jb" cross "$(fresh cross)" "$nlat" 2>"$out/jobs_cross.log")
echo "  cross-process: $cross"
thr=$("$jb" throughput "$(fresh throughput)" "$nthr" 2>"$out/jobs_throughput.log")
echo "  throughput:    $thr"
thr_runs=("$(field "$thr" noop_jobs_per_s)")

# Idle CPU: utime + stime of an idle `sheetd work` from /proc, after it settled for 2 s.
d=$(fresh idle)
SHEETD_DATA_DIR="$d" "$bin" work 2>"$out/jobs_idle.log" &
idle_pid=$!
pids+=("$idle_pid")
sleep 2
ticks() { awk '{ print $14 + $15 }' "/proc/$idle_pid/stat"; }
c0=$(ticks); t0=$(date +%s.%N)
sleep 10
c1=$(ticks); t1=$(date +%s.%N)
kill "$idle_pid"; wait "$idle_pid" 2>/dev/null
idle_pct=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v t="$t0" -v u="$t1" \
  'BEGIN { printf "%.2f", 100 * c / hz / (u - t) }')
echo "  idle CPU:      sheetd work ${idle_pct} % of one core over $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s ($((c1 - c0)) ticks of 1/$(getconf CLK_TCK) s)"

# Recovery after kill -9.
d=$(fresh recovery)
recovery_rows=1000000
csv="$out/customers_1m.csv"
[ -f "$csv" ] || "$jb" csv "$csv" "$recovery_rows" || exit 2
SHEETD_DATA_DIR="$d" "$bin" template create --file examples/customers.template.json >/dev/null
job=$(SHEETD_DATA_DIR="$d" "$bin" import customers "$csv" --async 2>/dev/null)
# state: "status processed total attempts" of the job ("unknown 0 0 0" when it cannot be read)
state() {
  SHEETD_DATA_DIR="$d" "$bin" jobs show "$job" --json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    d = {"status": "unknown"}
p = d.get("progress") or {}
print(d["status"], p.get("processed", 0), p.get("total", 0), d.get("attempts", 0))'
}
SHEETD_DATA_DIR="$d" "$bin" work 2>"$out/jobs_recovery_1.log" &
w1=$!
pids+=("$w1")
s=""
# Killed as soon as the import has written progress and before it has read every row: in
# the middle of it (a fixed sleep could land after the commit and measure no recovery at
# all; the verdict below also wants the second attempt to be the one that completed).
for _ in $(seq 600); do
  s=$(state)
  set -- $s
  [ "${1:-}" = processing ] && [ "${2:-0}" -gt 0 ] && [ "${2:-0}" -lt "${3:-0}" ] && break
  sleep 0.02
done
s_kill=$s
kill -9 "$w1"
t_kill=$(date +%s.%N)
wait "$w1" 2>/dev/null
SHEETD_DATA_DIR="$d" "$bin" work 2>"$out/jobs_recovery_2.log" &
w2=$!
pids+=("$w2")
# Recovered: the second worker holds the job (attempt 2); then it runs the import again.
t_back=""
for _ in $(seq 600); do
  s=$(state)
  [ -z "$t_back" ] && [ "${s##* }" = 2 ] && t_back=$(date +%s.%N)
  case ${s%% *} in completed | failed | cancelled) break ;; esac
  sleep 0.2
done
t_done=$(date +%s.%N)
kill "$w2"; wait "$w2" 2>/dev/null
rows=$(sqlite3 "$d/sheetd.db" "SELECT COUNT(*) || ' ' || COUNT(DISTINCT id) FROM customers" 2>/dev/null)
recovery_s=$(awk "BEGIN{printf \"%.1f\", ${t_back:-$t_done} - $t_kill}")
done_s=$(awk "BEGIN{printf \"%.1f\", $t_done - $t_kill}")
rows_ok=0
[ "${s%% *}" = completed ] && [ "$rows" = "$recovery_rows $recovery_rows" ] &&
  [ "${s_kill%% *}" = processing ] && [ "${s##* }" = 2 ] && rows_ok=1
echo "  recovery:      killed -9 at \"${s_kill}\" (status processed total attempts); running again (attempt 2) ${recovery_s} s after the kill, ${s%% *} ${done_s} s after it; rows in table (all, distinct ids): ${rows:-none} of $recovery_rows"

# The peers, in the same run.
# The job layer on PostgreSQL (issue 11): enqueue -> start across processes (LISTEN/NOTIFY)
# and no-op jobs/s through 4 workers in 2 processes, on a throwaway server (fsync on, as a
# real one), beside pg-boss below. BENCH_PG=0 skips it.
pg_x50=""; pg_jps=""
if [ "${BENCH_PG:-1}" != 0 ]; then
  pg_dir=$(mktemp -d); chmod 755 "$pg_dir"
  if pg_url=$(PG_SH_FSYNC=on scripts/pg.sh start "$pg_dir/pg"); then
    for db in jobs_cross jobs_thr; do psql "$pg_url" -qc "CREATE DATABASE $db" >/dev/null; done
    base=${pg_url%/*}
    pg_cross=$(SHEETD_DATABASE_URL="$base/jobs_cross" "$jb" cross "$(fresh pgx)" "$nlat" 2>/dev/null | tail -1)
    pg_thr=$(SHEETD_DATABASE_URL="$base/jobs_thr" "$jb" throughput2 "$(fresh pgt)" "$nthr" 2>/dev/null | tail -1)
    echo "  PostgreSQL cross-process: $pg_cross"
    echo "  PostgreSQL throughput:    $pg_thr"
    pg_x50=$(field "$pg_cross" latency_p50_ms); pg_jps=$(field "$pg_thr" noop_jobs_per_s)
  else
    echo "  (the PostgreSQL server did not start; skipped)"
  fi
  scripts/pg.sh stop "$pg_dir/pg" >/dev/null 2>&1; rm -rf "$pg_dir"
fi
declare -A peer
if [ "${BENCH_PEERS:-1}" != 0 ]; then
  "$shared/job_peers.sh" >"$out/job_peers.txt" 2>"$out/job_peers.err"
  while read -r line; do
    p=${line%% *}
    peer[${p}_p50]=$(field "$line" latency_p50_ms)
    peer[${p}_p99]=$(field "$line" latency_p99_ms)
    peer[${p}_jps]=$(field "$line" noop_jobs_per_s)
    echo "  peer:          $line"
  done < <(grep -E '^(bullmq|pg-boss) ' "$out/job_peers.txt")
  # Two more rounds of the throughput pair, each sheetd run right before a BullMQ run.
  bullmq_runs=("${peer[bullmq_jps]:-0}")
  for round in 2 3; do
    t=$("$jb" throughput "$(fresh throughput)" "$nthr" 2>>"$out/jobs_throughput.log")
    thr_runs+=("$(field "$t" noop_jobs_per_s)")
    line=$("$shared/job_peers.sh" bullmq 2>>"$out/job_peers.err" | grep -E '^bullmq ')
    bullmq_runs+=("$(field "$line" noop_jobs_per_s)")
    echo "  round $round:       sheetd ${thr_runs[-1]:-?} jobs/s, bullmq ${bullmq_runs[-1]:-?} jobs/s"
  done
  peer[bullmq_jps]=$(median "${bullmq_runs[@]}")
fi

in50=$(field "$inproc" latency_p50_ms); in99=$(field "$inproc" latency_p99_ms)
x50=$(field "$cross" latency_p50_ms); x99=$(field "$cross" latency_p99_ms)
jps=$(field "$thr" noop_jobs_per_s)
[ "${#thr_runs[@]}" -gt 1 ] && jps=$(median "${thr_runs[@]}")
echo
echo "targets (background jobs)"
echo "  latency in-process p50:     ${in50:-?} ms (target <= 5)      $(verdict "${in50:-1e9} <= 5")"
echo "  latency cross-process p50:  ${x50:-?} ms (target <= 100)    $(verdict "${x50:-1e9} <= 100")"
b=${peer[bullmq_jps]:-0}
echo "  no-op jobs/s vs BullMQ:     ${jps:-?} vs ${b} = $(ratio "${jps:-0}" "$b")x, medians of ${#thr_runs[@]} interleaved runs (target >= 1)  $(verdict "${jps:-0} >= $b && $b > 0")"
echo "  idle CPU of sheetd work:    ${idle_pct} % (target < 1)        $(verdict "$idle_pct < 1")"
if [ -n "$pg_x50" ]; then
  echo "  PostgreSQL cross-process p50: ${pg_x50} ms (target <= 10)  $(verdict "${pg_x50} <= 10")"
  echo "  PostgreSQL no-op jobs/s (4 workers, 2 processes): ${pg_jps:-?}; pg-boss here: ${peer[pg-boss_jps]:-?} (batches of 1,000); published: Que 10,000, River ~46,000"
fi
echo "  recovery after kill -9:     running again ${recovery_s} s after the kill (completed after ${done_s} s), rows exactly once: $([ $rows_ok = 1 ] && echo yes || echo no) (target <= 35 s)  $(verdict "$rows_ok == 1 && $recovery_s <= 35")"
# Ours / theirs, so below 1 is better for latency and above 1 is better for jobs/s.
r3() { awk "BEGIN{ if ($2 > 0) printf \"%.3g\", $1 / $2; else print \"n/a\" }"; }
for p in bullmq pg-boss; do
  [ -n "${peer[${p}_p50]:-}" ] || continue
  echo "  vs $p (ours / theirs): in-process latency p50 $(r3 "${in50:-0}" "${peer[${p}_p50]}"), p99 $(r3 "${in99:-0}" "${peer[${p}_p99]}");" \
    "cross-process p50 $(r3 "${x50:-0}" "${peer[${p}_p50]}"), p99 $(r3 "${x99:-0}" "${peer[${p}_p99]}"); jobs/s $(r3 "${jps:-0}" "${peer[${p}_jps]}")"
done

#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and the benchmark.
#
#   scripts/pg.sh start DIR   initdb into DIR/data, start a server listening on 127.0.0.1 at a
#                             free port and on a socket in DIR, create the database
#                             "sheetd_test", and print its URL on stdout (also in DIR/url)
#   scripts/pg.sh stop DIR    stop that server and remove DIR
#
# Nothing is assumed to be running: the server belongs to DIR alone (its own port, its own
# socket directory, trust authentication for the local user "postgres" only, fsync off since
# the data is thrown away; PG_SH_FSYNC=on keeps it on, for benchmarks). PostgreSQL refuses to run as root, so when this script runs as
# root (as CI does) the server runs as the unprivileged "postgres" user, which then owns DIR.
set -euo pipefail

usage() {
  echo "usage: scripts/pg.sh start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && bindir=$d
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then
  bindir=$(dirname "$(command -v initdb)")
fi

# as_server CMD...: runs CMD as the user the server runs as.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case $cmd in
start)
  if [ -z "$bindir" ]; then
    echo "pg.sh: initdb was not found; install PostgreSQL (scripts/deps.sh installs it)" >&2
    exit 2
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || {
      echo "pg.sh: running as root needs the unprivileged user \"postgres\" (the postgresql package creates it)" >&2
      exit 2
    }
    chown postgres "$dir"
    runuser -u postgres -- test -w "$dir" || {
      echo "pg.sh: the user \"postgres\" cannot reach $dir; choose a directory whose parents others may enter (chmod o+x)" >&2
      exit 2
    }
  fi
  as_server "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_SH_FSYNC:-off}" = on ] && durability=""
  # A port picked at random among those nobody listens on; a lost race is retried.
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$(shuf -i 20000-59999 -n 1)
    ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && continue
    if as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $durability -c max_connections=200" \
      start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      url="postgres://postgres@127.0.0.1:$port/sheetd_test"
      as_server "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt \
        -c "CREATE DATABASE sheetd_test" >/dev/null
      echo "$url" >"$dir/url"
      echo "$url"
      exit 0
    fi
  done
  echo "pg.sh: the test PostgreSQL server did not start; see $dir/server.log" >&2
  tail -5 "$dir/server.log" >&2 || true
  exit 1
  ;;
stop)
  [ -d "$dir" ] || exit 0
  if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bindir" ]; then
    as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  usage
  ;;
esac

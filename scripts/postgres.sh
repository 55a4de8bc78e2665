#!/usr/bin/env bash
# Start (or stop) a throw-away PostgreSQL server for haia's tests and print its URL.
#
#   scripts/postgres.sh start   -> prints postgresql+psycopg://haia@127.0.0.1:PORT/haia
#   scripts/postgres.sh stop
#
# Installs Debian's postgresql package when no server binaries are found (needs root or sudo).
# The cluster lives in $HAIA_PG_DIR (default /tmp/haia-pg) and listens on 127.0.0.1 only, on
# $HAIA_PG_PORT (default 54329), with trust authentication: for tests, never for real data.
set -euo pipefail
DIR="${HAIA_PG_DIR:-/tmp/haia-pg}"
PORT="${HAIA_PG_PORT:-54329}"
ACTION="${1:-start}"

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

BIN="$(find_bin)"
if [ -z "$BIN" ]; then
  if [ "$ACTION" = "stop" ]; then exit 0; fi
  echo "postgres.sh: installing Debian's postgresql package..." >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
  [ -n "$BIN" ] || { echo "postgres.sh: no PostgreSQL server binaries after install" >&2; exit 1; }
fi

# initdb and the server refuse to run as root: use the 'postgres' system user then.
run() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    su postgres -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

case "$ACTION" in
  start)
    if [ ! -f "$DIR/PG_VERSION" ]; then
      mkdir -p "$DIR"
      [ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
      run "'$BIN/initdb' -D '$DIR' -U haia -A trust -E UTF8 --no-locale" >/dev/null
    fi
    if ! run "'$BIN/pg_ctl' -D '$DIR' status" >/dev/null 2>&1; then
      run "'$BIN/pg_ctl' -D '$DIR' -w -l '$DIR/server.log' -o \"-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off\" start" >/dev/null
    fi
    run "'$BIN/psql' -h 127.0.0.1 -p $PORT -U haia -d postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='haia'\"" | grep -q 1 \
      || run "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U haia haia"
    echo "postgresql+psycopg://haia@127.0.0.1:$PORT/haia"
    ;;
  stop)
    [ -f "$DIR/PG_VERSION" ] && run "'$BIN/pg_ctl' -D '$DIR' -m fast stop" >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Throwaway servers for the test suites (PostgreSQL and Redis), on free loopback ports,
# with their data in one temp directory that `stop` deletes. Nothing here touches a system service.
#
#   scripts/test-services.sh run CMD [ARGS…]   start the services, run CMD with their variables exported,
#                                              stop them afterwards (also on failure or Ctrl-C); CMD's status
#   eval "$(scripts/test-services.sh start)"   start them and export their variables in this shell
#   scripts/test-services.sh stop [DIR]        stop what `start` started (DIR defaults to $STREAMCHAT_TEST_SERVICES_DIR)
#
# Variables exported:
#   STREAMCHAT_TEST_SERVICES_DIR   the temp directory (data, sockets, logs, env file)
#   STREAMCHAT_TEST_DATABASE_URL   admin connection to the throwaway PostgreSQL cluster (trust auth, user postgres);
#                                  the tests create one database per test file on it
#   STREAMCHAT_TEST_REDIS_URL      a throwaway Redis (no auth, no persistence); the tests' keys are unique per run
#
# Settings:
#   STREAMCHAT_TEST_SERVICES       services to start, space-separated (default: "postgres redis")
#   STREAMCHAT_TEST_PG_BIN         PostgreSQL's bin directory (default: the newest /usr/lib/postgresql/*/bin, else PATH)
#   STREAMCHAT_TEST_PG_DURABLE=1   keep fsync and synchronous_commit on (benchmarks); off by default for speed
#
# Adding a service: write start_<name> DIR (start it, then `add_env NAME VALUE` for each variable) and
# stop_<name> DIR, and add <name> to the default of STREAMCHAT_TEST_SERVICES.
set -euo pipefail

services="${STREAMCHAT_TEST_SERVICES:-postgres redis}"

log() { echo "test-services: $*" >&2; }
die() { log "$*"; exit 1; }

# A free TCP port on 127.0.0.1 (node is there: this is a Node project). Another process can take it before
# the server binds it; start_* retry with a new port when the start fails.
free_port() {
  node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'
}

add_env() { printf 'export %s=%q\n' "$1" "$2" >>"$state/env"; }

# initdb refuses to run as root: as root, the servers run as the `postgres` system user (Debian's package creates it).
as_service_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# ---- PostgreSQL ------------------------------------------------------------------------------------

pg_bin() {
  if [ -n "${STREAMCHAT_TEST_PG_BIN:-}" ]; then echo "$STREAMCHAT_TEST_PG_BIN"; return; fi
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$newest" ] && [ -x "$newest/initdb" ]; then echo "$newest"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  die "PostgreSQL not found: install it (Debian: apt-get install postgresql) or set STREAMCHAT_TEST_PG_BIN"
}

start_postgres() {
  local dir="$1/postgres" bin port attempt
  bin="$(pg_bin)"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  # C locale: PostgreSQL's lower() then folds ASCII only, so the store's search (folded in JavaScript) is
  # tested where the two differ the most.
  as_service_user "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  local fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${STREAMCHAT_TEST_PG_DURABLE:-0}" = 1 ] && fast=""
  for attempt in 1 2 3; do
    port="$(free_port)"
    if as_service_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 $fast" start >/dev/null; then
      add_env STREAMCHAT_TEST_DATABASE_URL "postgres://postgres@127.0.0.1:$port/postgres"
      log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)"
      return 0
    fi
    log "PostgreSQL did not start on port $port (attempt $attempt); server log:"
    tail -n 5 "$dir/server.log" >&2 || true
  done
  die "PostgreSQL did not start"
}

stop_postgres() {
  local dir="$1/postgres"
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_service_user "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || log "pg_ctl stop failed (see $dir/server.log)"
}

# ---- Redis ----------------------------------------------------------------------------------------

start_redis() {
  local dir="$1/redis" port attempt
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found: install it (Debian: apt-get install redis-server)"
  mkdir -p "$dir"
  for attempt in 1 2 3; do
    port="$(free_port)"
    # No persistence (save "", no AOF): the data dies with the directory. Runs as the caller (Redis does not refuse root).
    if redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir" \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/server.log" >/dev/null; then
      local waited=0
      while [ "$waited" -lt 100 ]; do
        if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
          echo "$port" >"$dir/port"
          add_env STREAMCHAT_TEST_REDIS_URL "redis://127.0.0.1:$port"
          log "Redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$port (data in $dir)"
          return 0
        fi
        sleep 0.1
        waited=$((waited + 1))
      done
      stop_redis "$1"
    fi
    log "Redis did not start on port $port (attempt $attempt); server log:"
    tail -n 5 "$dir/server.log" >&2 || true
  done
  die "Redis did not start"
}

stop_redis() {
  local dir="$1/redis" pid
  [ -f "$dir/redis.pid" ] || return 0
  pid="$(cat "$dir/redis.pid")"
  if [ -f "$dir/port" ]; then
    redis-cli -h 127.0.0.1 -p "$(cat "$dir/port")" shutdown nosave >/dev/null 2>&1 || true
  fi
  # Only the pid this script started (from its pidfile), and only if it still runs.
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
  kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null || true
  rm -f "$dir/redis.pid"
}

# ---- commands --------------------------------------------------------------------------------------

start_all() {
  state="$(mktemp -d "${TMPDIR:-/tmp}/streamchat-services.XXXXXX")"
  chmod 755 "$state" # the service user must reach its directory inside
  : >"$state/env"
  add_env STREAMCHAT_TEST_SERVICES_DIR "$state"
  local service started=""
  for service in $services; do
    if ! "start_$service" "$state"; then
      STREAMCHAT_TEST_SERVICES="$started" stop_all "$state"
      die "could not start $service"
    fi
    started="$started $service"
  done
}

stop_all() {
  local dir="$1" service
  [ -d "$dir" ] || return 0
  for service in ${STREAMCHAT_TEST_SERVICES:-$services}; do "stop_$service" "$dir" || true; done
  rm -rf "$dir"
}

case "${1:-}" in
  start)
    start_all
    cat "$state/env"
    ;;
  stop)
    stop_all "${2:-${STREAMCHAT_TEST_SERVICES_DIR:?give the directory printed by start}}"
    ;;
  run)
    shift
    [ $# -gt 0 ] || die "usage: $0 run CMD [ARGS…]"
    start_all
    trap 'stop_all "$state"' EXIT
    trap 'exit 130' INT TERM
    # shellcheck disable=SC1091
    source "$state/env"
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

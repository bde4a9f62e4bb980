#!/usr/bin/env bash
# Prepares this machine for Arches: PostgreSQL running with pgvector, the `arches` role and
# database (extension created by the superuser once), and Redis answering. Idempotent and quick
# when everything is in place. Settings come from the same ARCHES_* variables the server reads.
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PG_SUPERUSER=${PG_SUPERUSER:-postgres}
DB_NAME=${ARCHES_DB_NAME:-arches}
DB_USER=${ARCHES_DATABASE_USER:-arches}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}

log() { echo "arches-setup: $*" >&2; }
psql_su() { psql -v ON_ERROR_STOP=1 -qAt -h "$PGHOST" -p "$PGPORT" -U "$PG_SUPERUSER" "$@"; }

# PostgreSQL: start the local cluster if it is not answering.
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 0.5; done
  pg_isready -q -h "$PGHOST" -p "$PGPORT" || { log "PostgreSQL is not answering on $PGHOST:$PGPORT"; exit 1; }
fi

bash scripts/install-pgvector.sh

# Role and database for the application; the extension is created here, by the superuser.
if [ "$(psql_su -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != "1" ]; then
  log "creating role $DB_USER"
  psql_su -d postgres -c "CREATE ROLE \"$DB_USER\" LOGIN CREATEDB"
fi
if [ -n "${ARCHES_DATABASE_PASSWORD:-}" ]; then
  psql_su -d postgres -c "ALTER ROLE \"$DB_USER\" PASSWORD '${ARCHES_DATABASE_PASSWORD//\'/\'\'}'"
fi
if [ "$(psql_su -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]; then
  log "creating database $DB_NAME"
  psql_su -d postgres -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\""
fi
psql_su -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS vector" 2>/dev/null

# Statement statistics for the admin listener's GET /debug/queries. The library only works when
# preloaded, which takes a restart: done only when the running server lacks it, so a second
# `make setup` restarts nothing. Libraries already preloaded are kept.
preload=$(psql_su -d postgres -c "SHOW shared_preload_libraries")
if [[ ",${preload// /}," != *",pg_stat_statements,"* ]]; then
  want="${preload:+$preload,}pg_stat_statements"
  psql_su -d postgres -c "ALTER SYSTEM SET shared_preload_libraries = '$want'"
  major=$(( $(psql_su -d postgres -c "SHOW server_version_num") / 10000 ))
  case "$PGHOST" in 127.0.0.1|localhost|::1) local_pg=1 ;; *) local_pg=0 ;; esac
  if [ "$local_pg" = 1 ] && command -v pg_ctlcluster >/dev/null && [ -d "/etc/postgresql/$major/main" ]; then
    log "restarting PostgreSQL $major to preload pg_stat_statements"
    pg_ctlcluster --skip-systemctl-redirect "$major" main restart
    for _ in $(seq 1 60); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 0.5; done
    pg_isready -q -h "$PGHOST" -p "$PGPORT" || { log "PostgreSQL did not come back after the restart"; exit 1; }
  else
    log "shared_preload_libraries now includes pg_stat_statements: restart PostgreSQL to load it"
  fi
fi
# Created by the superuser: the extension is not trusted, the application role cannot create it.
PGOPTIONS="-c client_min_messages=warning" psql_su -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
# pg_monitor lets the application role read what the database reports need and would otherwise see
# only for its own sessions: other roles' transactions and statements, replication lag, the data
# directory (for the disk type). It reads statistics and settings only, never table data.
if [ "$(psql_su -d postgres -c "SELECT pg_has_role('$DB_USER', 'pg_monitor', 'MEMBER')")" != "t" ]; then
  psql_su -d postgres -c "GRANT pg_monitor TO \"$DB_USER\""
fi

# The slow-statement log: statements over 250 ms go to the server log with their text. The
# platform's statements take about a millisecond and the API's tightest goals are a p99 of 20 to
# 100 ms per request, so one statement at 250 ms has blown a request's budget on its own: always
# worth a line, and rare enough that the log stays readable under a benchmark's load (the many
# faster ones add up in pg_stat_statements instead). A reload applies it; no restart.
if [ "$(psql_su -d postgres -c "SELECT setting FROM pg_settings WHERE name = 'log_min_duration_statement'")" != "250" ]; then
  psql_su -d postgres -c "ALTER SYSTEM SET log_min_duration_statement = '250ms'"
  psql_su -d postgres -c "SELECT pg_reload_conf()" >/dev/null
fi

# Test tooling, from Debian's packages, installed only by `--test` and only when missing:
#   promtool (prometheus)   checks the /metrics output and the alert rules
#   go (golang-go)          `go tool pprof` reads the admin listener's profiles
#   haproxy                 runs the project's deploy/haproxy/haproxy.cfg in front of real nodes
#   npm (nodejs, npm)       tools/k8s-validate checks deploy/k8s; web/ builds the console
#   chromium                the console's browser test, driven by playwright-core
test_tool() {
  local command=$1; shift
  command -v "$command" >/dev/null && return 0
  log "installing $command (Debian package $*)"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}
if [ "${1:-}" = "--test" ]; then
  test_tool promtool prometheus
  test_tool go golang-go
  test_tool haproxy haproxy
  test_tool npm nodejs npm
  test_tool chromium chromium
fi

# Redis: start a local one if nothing answers (cache only: no persistence).
if command -v redis-cli >/dev/null && ! redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /tmp --logfile /tmp/arches-redis.log
    for _ in $(seq 1 20); do redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.25; done
  fi
fi

# Redis as a cache, as the performance guide runs it: bounded memory, least-recently-used keys
# evicted first, nothing persisted. Applied to a local Redis only (the platform owns it here);
# in production put the same in redis.conf: maxmemory <size>, maxmemory-policy allkeys-lru,
# save "", appendonly no.
if command -v redis-cli >/dev/null && { [ "$REDIS_HOST" = 127.0.0.1 ] || [ "$REDIS_HOST" = localhost ]; } \
    && redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  rc() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@" >/dev/null; }
  rc CONFIG SET maxmemory "${ARCHES_BENCH_REDIS_MAXMEMORY:-512mb}"
  rc CONFIG SET maxmemory-policy allkeys-lru
  rc CONFIG SET save ""
  rc CONFIG SET appendonly no
fi

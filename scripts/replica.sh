#!/usr/bin/env bash
# A PostgreSQL streaming replica of the local primary, for `make cluster` and the replica tests.
#   scripts/replica.sh start    idempotent: a running replica is kept, otherwise a fresh one is
#                               made with pg_basebackup and started on REPLICA_PORT (5433)
#   scripts/replica.sh stop     stops it, deletes its data directory and takes back the one
#                               pg_hba.conf line `start` added to the primary
#   scripts/replica.sh status   prints "streaming" (exit 0) or "stopped" (exit 1)
# The replica's data directory is under .arches/cluster/ (ignored by git); it runs as the
# operating system's postgres user when started as root, as PostgreSQL requires.
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PG_SUPERUSER=${PG_SUPERUSER:-postgres}
REPLICA_PORT=${REPLICA_PORT:-5433}
STATE=${ARCHES_CLUSTER_STATE:-$PWD/.arches/cluster}
DATA=$STATE/replica
LOGFILE=$STATE/replica.log
MARK="# arches-replica: added by scripts/replica.sh, removed by its stop"

log() { echo "arches-replica: $*" >&2; }
psql_su() { psql -v ON_ERROR_STOP=1 -qAt -h "$PGHOST" -p "$PGPORT" -U "$PG_SUPERUSER" "$@"; }
psql_replica() { psql -qAt -h 127.0.0.1 -p "$REPLICA_PORT" -U "$PG_SUPERUSER" -d postgres "$@"; }
major=$(( $(psql_su -d postgres -c "SHOW server_version_num") / 10000 ))
BIN=/usr/lib/postgresql/$major/bin
# PostgreSQL refuses to run as root: its files and processes belong to the postgres user then.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# A standby answering on the port is this machine's replica, whichever checkout started it
# (`start` then keeps it; `stop` stops only the one under this checkout's state folder).
# A standby that is in recovery but whose WAL receiver is not connected does not count.
streaming() {
  [ "$(psql_replica -c "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')" 2>/dev/null)" = "t" ]
}

hba_add() {
  local hba; hba=$(psql_su -d postgres -c "SHOW hba_file")
  if ! grep -qF "$MARK" "$hba"; then
    # Replication connections match only lines naming `replication`; trust as the primary's own
    # loopback lines do on this machine, and only from loopback.
    printf '%s\nhost replication %s 127.0.0.1/32 trust\n' "$MARK" "$PG_SUPERUSER" >> "$hba"
    psql_su -d postgres -c "SELECT pg_reload_conf()" >/dev/null
  fi
}

hba_remove() {
  local hba; hba=$(psql_su -d postgres -c "SHOW hba_file")
  if grep -qF "$MARK" "$hba"; then
    local tmp; tmp=$(mktemp)
    awk -v mark="$MARK" '$0 == mark { skip = 1; next } skip { skip = 0; next } { print }' "$hba" > "$tmp"
    cat "$tmp" > "$hba"; rm -f "$tmp"
    psql_su -d postgres -c "SELECT pg_reload_conf()" >/dev/null
  fi
}

stop_server() {
  if [ -f "$DATA/postmaster.pid" ]; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

start() {
  if streaming; then
    log "replica already streaming on port $REPLICA_PORT"
    return 0
  fi
  stop_server
  rm -rf "$DATA"
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  hba_add
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
  chmod 700 "$DATA"
  log "base backup of $PGHOST:$PGPORT into $DATA"
  as_owner "$BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U "$PG_SUPERUSER" -D "$DATA" -X stream -c fast -R
  # A hot standby needs at least the primary's values of these; the rest is this replica's own.
  local settings
  settings=$(psql_su -d postgres -c "SELECT string_agg(name || ' = ' || setting, E'\n') FROM pg_settings
    WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
                   'max_locks_per_transaction')")
  as_owner tee "$DATA/postgresql.conf" >/dev/null <<EOF
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA'
hot_standby = on
# Long reads on the replica are not cancelled by the primary's vacuum of rows they still see.
hot_standby_feedback = on
$settings
EOF
  as_owner tee "$DATA/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  as_owner touch "$LOGFILE" 2>/dev/null || { touch "$LOGFILE"; [ "$(id -u)" = 0 ] && chown postgres "$LOGFILE"; }
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 start >/dev/null
  for _ in $(seq 1 120); do streaming && break; sleep 0.25; done
  streaming || { log "the replica did not start; see $LOGFILE"; exit 1; }
  log "replica streaming on port $REPLICA_PORT"
}

stop() {
  stop_server
  rm -rf "$DATA"
  hba_remove
  log "replica stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if streaming; then echo streaming; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

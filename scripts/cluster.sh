#!/usr/bin/env bash
# Several Arches nodes on this machine, on existing engines only: a PostgreSQL streaming replica
# (scripts/replica.sh, port 5433), three nodes on 8081-8083 sharing the primary, the replica and
# Redis, and HAProxy on 8000 with deploy/haproxy/haproxy.cfg.
#   scripts/cluster.sh start            idempotent: starts whatever is not running (and reloads
#                                       HAProxy if deploy/haproxy/haproxy.cfg changed since)
#   scripts/cluster.sh stop             stops all of it and takes the replica's pg_hba line back
#   scripts/cluster.sh status           one line per part
#   scripts/cluster.sh stop-node N      SIGTERM: the node drains (/ready 503), finishes, exits
#   scripts/cluster.sh kill-node N      SIGKILL
#   scripts/cluster.sh start-node N     starts node N and waits for /ready
# State, logs and pid files are under .arches/cluster/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${ARCHES_CLUSTER_STATE:-$PWD/.arches/cluster}
NODES=(1 2 3)
DB_NAME=${ARCHES_DB_NAME:-arches}
JAVA_HOME=${JAVA_HOME:-$(scripts/java-home.sh)}
JAVA_OPTS=${JAVA_OPTS:--XX:+UseParallelGC --enable-native-access=ALL-UNNAMED}
LB_PORT=8000

log() { echo "arches-cluster: $*" >&2; }
port() { echo $((8080 + $1)); }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
ready() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$1/ready"; }

start_node() {
  local n=$1 p; p=$(port "$n")
  local pidfile=$STATE/node$n.pid
  if alive "$pidfile"; then
    return 0
  fi
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/health"; then
    log "port $p already answers and is not this cluster's node $n: stop what runs there first"; exit 1
  fi
  [ -s .arches/token_secret ] || { mkdir -p .arches; head -c 32 /dev/urandom | base64 > .arches/token_secret; }
  # Every node: same secret (a token from one is valid on all), the replica for stale reads,
  # a pool that fits three nodes in PostgreSQL's 100 connections, HAProxy trusted for the
  # client's address, and a drain long enough for two failed health checks.
  ARCHES_SERVER_PORT=$p \
  ARCHES_ADMIN_PORT=$((6060 + n)) \
  ARCHES_AUTH_TOKEN_SECRET="${ARCHES_AUTH_TOKEN_SECRET:-$(cat .arches/token_secret)}" \
  ARCHES_DATABASE_REPLICAS="jdbc:postgresql://127.0.0.1:5433/$DB_NAME" \
  ARCHES_DATABASE_POOL_MAX_CONNECTIONS=${ARCHES_DATABASE_POOL_MAX_CONNECTIONS:-20} \
  ARCHES_DATABASE_POOL_MIN_CONNECTIONS=2 \
  ARCHES_SERVER_TRUSTED_PROXIES=127.0.0.1/32 \
  ARCHES_SERVER_DRAIN_DELAY=${ARCHES_SERVER_DRAIN_DELAY:-3s} \
  ARCHES_SERVER_SHUTDOWN_GRACE=${ARCHES_SERVER_SHUTDOWN_GRACE:-10s} \
  ARCHES_LOG_ACCESS=${ARCHES_LOG_ACCESS:-false} \
    setsid nohup "$JAVA_HOME/bin/java" $JAVA_OPTS -jar target/arches.jar > "$STATE/node$n.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$pidfile"
}

wait_ready() {
  local n=$1 p; p=$(port "$n")
  for _ in $(seq 1 180); do
    ready "$p" && return 0
    alive "$STATE/node$n.pid" || { log "node $n exited; see $STATE/node$n.log"; tail -5 "$STATE/node$n.log" >&2; exit 1; }
    sleep 0.5
  done
  log "node $n not ready after 90 s; see $STATE/node$n.log"; exit 1
}

stop_node() {
  local n=$1 pidfile=$STATE/node$1.pid
  if alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    kill -TERM "$pid"
    # Drain delay and shutdown grace, plus a margin.
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { log "node $n still running after 30 s: killing it"; kill -KILL "$pid"; }
  fi
  rm -f "$pidfile"
}

start_haproxy() {
  command -v haproxy >/dev/null || {
    log "installing haproxy (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null
  }
  if alive "$STATE/haproxy.pid"; then
    # An edited configuration is loaded without dropping connections: the master process starts
    # new workers on it and the old ones finish what they hold (servers set to maint by hand come
    # back in service).
    if [ deploy/haproxy/haproxy.cfg -nt "$STATE/haproxy.pid" ]; then
      haproxy -c -q -f deploy/haproxy/haproxy.cfg
      kill -USR2 "$(cat "$STATE/haproxy.pid")"
      touch "$STATE/haproxy.pid"
      log "HAProxy reloaded deploy/haproxy/haproxy.cfg"
      for _ in $(seq 1 40); do ready "$LB_PORT" && return 0; sleep 0.25; done
      log "HAProxy does not answer on $LB_PORT after the reload; see $STATE/haproxy.log"; exit 1
    fi
    return 0
  fi
  haproxy -c -q -f deploy/haproxy/haproxy.cfg
  setsid nohup haproxy -W -f deploy/haproxy/haproxy.cfg > "$STATE/haproxy.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$STATE/haproxy.pid"
  for _ in $(seq 1 40); do ready "$LB_PORT" && return 0; sleep 0.25; done
  log "HAProxy does not answer on $LB_PORT; see $STATE/haproxy.log"; exit 1
}

stop_haproxy() {
  if alive "$STATE/haproxy.pid"; then
    local pid; pid=$(cat "$STATE/haproxy.pid")
    kill -TERM "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$STATE/haproxy.pid"
}

case "${1:-}" in
  start)
    mkdir -p "$STATE"
    scripts/replica.sh start
    for n in "${NODES[@]}"; do start_node "$n"; done
    for n in "${NODES[@]}"; do wait_ready "$n"; done
    start_haproxy
    log "three nodes on 8081-8083 behind HAProxy on http://localhost:$LB_PORT (stats: http://127.0.0.1:8404/stats)"
    ;;
  stop)
    stop_haproxy
    for n in "${NODES[@]}"; do stop_node "$n" & done
    wait
    scripts/replica.sh stop
    ;;
  status)
    echo "replica: $(scripts/replica.sh status || true)"
    for n in "${NODES[@]}"; do
      if alive "$STATE/node$n.pid"; then
        echo "node$n: $(curl -s --max-time 2 "http://127.0.0.1:$(port "$n")/ready" || echo 'not answering')"
      else
        echo "node$n: stopped"
      fi
    done
    if alive "$STATE/haproxy.pid"; then echo "haproxy: running on $LB_PORT"; else echo "haproxy: stopped"; fi
    ;;
  stop-node) stop_node "${2:?node number}" ;;
  kill-node)
    pidfile=$STATE/node${2:?node number}.pid
    alive "$pidfile" && kill -KILL "$(cat "$pidfile")"
    rm -f "$pidfile"
    ;;
  start-node) start_node "${2:?node number}"; wait_ready "$2" ;;
  *) echo "usage: $0 start|stop|status|stop-node N|kill-node N|start-node N" >&2; exit 2 ;;
esac

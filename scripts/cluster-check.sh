#!/usr/bin/env bash
# Pass/fail checks of the local cluster (`make cluster`: three nodes, HAProxy, a replica), for
# CI-like runs on this machine: `make cluster-check` or scripts/cluster-check.sh. Starts the
# cluster if it is not running, then under a small steady load (bench/cluster.py check):
#   - node 2 SIGKILLed and started again: no GET fails, no acknowledged create is lost
#   - rolling restart (each node drained, stopped, started in turn): no request of any method
#     fails, creates without an Idempotency-Key included
#   - PostgreSQL restarted, then stopped for 5 s and started: failures only 503 (or 409 for a keyed retry still in flight) with Retry-After
#     (never 500), creates succeed again within 5 s, every acknowledged create is in the database,
#     the replica streams again and every node's /ready says replica: up within 20 s
#   - in every phase: no acknowledged create missing from the database, no create without an
#     Idempotency-Key stored twice (creates with a key stored twice are counted, not failed: the
#     nodes may not honour the key yet)
# Exits 1 if any check fails. About two minutes with the cluster already running.
# NOT part of `make test`, and never to be run beside it: it restarts the shared PostgreSQL and
# kills nodes. It holds /tmp/arches-bench.lock while it does, so test runs and benches that take
# that lock (Maven builds here do) wait for it. The cluster is left running (`make cluster-stop`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f target/arches.jar ] || { echo "cluster-check: target/arches.jar missing; run make build first" >&2; exit 2; }
exec python3 bench/cluster.py check

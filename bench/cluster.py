#!/usr/bin/env python3
"""The cluster bench and checks (issue 14, "Scale-out on existing engines"): `make bench-cluster`
(QUICK=1: a few minutes) and `make cluster-check` (`python3 bench/cluster.py check`, the pass/fail
part alone with smaller loads, under two minutes on a running cluster).

Runs on `make cluster` (scripts/cluster.sh: three nodes on 8081-8083, HAProxy on 8000, a streaming
replica on 5433), starting it if needed. The nodes run with this bench's settings (NODE_ENV: rate
limits out of reach, no background embedding); nodes running without them are restarted first.
Data: a few users, organizations, API keys and documents made through the API (reused by later
runs); every run first deletes the documents earlier runs' loads created.

  mixed     (bench) the mix of bench/lua/cluster.lua (wrk, closed loop) straight to node 1, through
            HAProxy with only node 1 in service (the others in maintenance through the runtime
            API), and through HAProxy to all three: the balancer's cost and the scaling on one
            machine; db_replica_reads_total summed over the nodes before and after each run
  kill      GETs of the mix and creates carrying unique Idempotency-Keys at a fixed rate; node 2
            SIGKILLed mid-run, then started again. Goal: no failed GET
  rolling   the same load plus creates without a key; each node in turn stopped (SIGTERM: drain)
            and started, the next only once HAProxy has it up again. Goal: no failed request of
            any method
  restart   creates with unique titles (with and without Idempotency-Keys) and GETs; PostgreSQL
            restarted mid-run. Goals: failures only 503 with Retry-After (never 500), creates
            succeed again within 5 s, every acknowledged document in the database afterwards, the
            replica streaming and every node's /ready saying replica: up within REPLICA_BOUND s
  outage    the same, PostgreSQL stopped for OUTAGE seconds and started: the same goals, creates
            succeeding again within 5 s of the primary accepting connections

Outcomes are counted per request by this script's own open-loop client (asyncio; request i due
at a fixed time whatever earlier ones are doing; latency from that due time): a failure is a
socket error, a 5xx, or a 4xx not in EXPECTED_4XX. Creates are also checked in the database:
acknowledged ids missing (lost), titles stored twice (a create applied twice: a retry of a request
whose first try had committed, which the Idempotency-Key should prevent) and failed creates that
were stored anyway. HAProxy's log gives the requests it sent more than once.

The load phases hold /tmp/arches-bench.lock (taken here on a descriptor no child inherits;
already held when the caller wrapped this in flock); starting the cluster does not. Writes
bench/results/<date>-<commit>-cluster[-quick].{md,json} (check mode: nothing; exit 1 on a failed
check). Restarts the shared PostgreSQL: never part of `make test`.
"""
import asyncio
import datetime
import fcntl
import functools
import itertools
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

sys.dont_write_bytecode = True  # bench/__pycache__ holds tracked files
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (wrk, raise_fd_limit, machine, METRIC: the harness's helpers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)

CHECK = sys.argv[1:] == ["check"]
# Tags this run's create titles (with a number per stream), so its database checks never count
# another stream's or an earlier run's rows.
RUN = time.strftime("%H%M%S")
STREAMS = itertools.count(1)
QUICK = CHECK or os.environ.get("QUICK", "") not in ("", "0")
HOST = "127.0.0.1"
LB = 8000
NODES = [1, 2, 3]
STATS = (HOST, 8001)
LOCK = "/tmp/arches-bench.lock"
DB = os.environ.get("ARCHES_DB_NAME", "arches")
STATE = os.environ.get("ARCHES_CLUSTER_STATE", os.path.join(ROOT, ".arches", "cluster"))
TARGETS = os.path.join(STATE, "bench")
# What the nodes run with. Rate limits out of reach: the bench measures the cluster, not the
# limiter (100 requests a minute per key). No background embedding: the load's creates would queue
# documents whose embedding takes both cores for minutes, unevenly between runs and nodes.
NODE_ENV = {"ARCHES_RATE_LIMIT_MAX_REQUESTS": "1000000000",
            "ARCHES_RATE_LIMIT_REGISTER_MAX_PER_ADDRESS": "1000000",
            "ARCHES_EMBEDDING_WORKERS": "0"}

ORGS = 6
KEYS_PER_ORG = 4
DOCS_PER_ORG = 50
PASSWORD = "cluster-bench-password"
# wrk, closed loop: connection levels and seconds per level.
LEVELS = [8, 64] if QUICK else [8, 64, 256]
MIX_SECONDS = 5 if QUICK else 10
# Rounds of every setup at every level (each figure reported is the median over the rounds): one
# 15 s row each varied by up to a third from row to row on this shared machine.
MIX_ROUNDS = 1 if QUICK else 3
# Three JVMs on two cores keep compiling for about a minute of load: after 20 s the three-node
# rows still rose from run to run (632, 701, 723, 870 req/s at 8 connections, 10 s each).
WARMUP_SECONDS = 20 if QUICK else 60
# The event loads (requests a second) and how long they run around each event.
GET_RATE = 150 if CHECK else 300
POST_RATE = 15 if CHECK else 30
PLAIN_RATE = 5
WRITE_RATE = 40 if CHECK else 80
REQUEST_TIMEOUT = 30
BEFORE = 2 if CHECK else 3 if QUICK else 5
AFTER = 2 if CHECK else 3 if QUICK else 5
# The primary stopped this long in the outage phase: with the start's 2-3 s, longer than a
# request's wait for a connection (database.pool.connection_timeout, 5 s), so requests queued
# behind the pool time out while it is down.
OUTAGE = 5
# Outcomes that are not failures: none. A 4xx here would be the platform refusing a valid request.
EXPECTED_4XX = set()
RECOVERY_GOAL = 5.0
REPLICA_BOUND = 20.0
WORDS = ("replica balancer latency budget tenant index vector keyword drain restart failover "
         "quorum checkpoint shard cache eviction throughput queue backlog lease heartbeat "
         "snapshot migration rollout canary partition consensus journal compaction").split()
QUERIES = ["replica latency", "balancer drain", "tenant index", "vector keyword", "restart failover",
           "checkpoint snapshot", "cache eviction", "queue backlog", "lease heartbeat", "rollout canary",
           "partition journal", "throughput budget"]


def log(msg):
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- the cluster ----------------------------------------------------------------------------

def cluster_sh(*args):
    env = dict(os.environ, **NODE_ENV)
    env.setdefault("JAVA_HOME", subprocess.run(["scripts/java-home.sh"], text=True, stdout=subprocess.PIPE,
                                               check=True).stdout.strip())
    r = subprocess.run(["scripts/cluster.sh", *map(str, args)], env=env, text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise SystemExit(f"scripts/cluster.sh {' '.join(map(str, args))} failed:\n{r.stdout}")
    return r.stdout


def node_pid(n):
    try:
        with open(f"{STATE}/node{n}.pid") as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def node_has_bench_env(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(kv.split("=", 1) for kv in f.read().decode(errors="replace").split("\0") if "=" in kv)
    except OSError:
        return False
    return all(env.get(k) == v for k, v in NODE_ENV.items())


def ensure_cluster():
    """Starts what is not running (scripts/cluster.sh start is idempotent); a node running without
    NODE_ENV is stopped first so it comes back with it. Every HAProxy server back in service."""
    for n in NODES:
        pid = node_pid(n)
        if pid and not node_has_bench_env(pid):
            log(f"node {n} runs without the bench's settings: restarting it")
            cluster_sh("stop-node", n)
    t = time.time()
    cluster_sh("start")
    for n in NODES:
        haproxy(f"set server nodes/node{n} state ready")
    wait_up(NODES, 60)
    log(f"cluster up ({time.time() - t:.0f} s): {', '.join(f'node{n} pid {node_pid(n)}' for n in NODES)}")


def haproxy(cmd):
    """One command on HAProxy's runtime API (what `socat - tcp:127.0.0.1:8001` does)."""
    with socket.create_connection(STATS, timeout=5) as s:
        s.sendall((cmd + "\n").encode())
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    return out.decode()


def server_states():
    """node name -> HAProxy's status of it (UP, DOWN, MAINT, DRAIN, 'UP 1/2' while rising...)."""
    out = {}
    lines = haproxy("show stat").splitlines()
    head = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(head, line.split(",")))
        if row.get("pxname") == "nodes" and row.get("svname", "").startswith("node"):
            out[row["svname"]] = row["status"]
    return out


def wait_up(nodes, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        st = server_states()
        if all(st.get(f"node{n}") == "UP" for n in nodes):
            return
        time.sleep(0.1)
    raise SystemExit(f"HAProxy does not have node(s) {nodes} up after {seconds} s: {server_states()}")


class Monitor(threading.Thread):
    """HAProxy's view of the nodes every 100 ms; every change goes on the timeline."""

    def __init__(self, timeline):
        super().__init__(daemon=True)
        self.timeline = timeline
        self.stop = threading.Event()

    def run(self):
        last = {}
        while not self.stop.is_set():
            try:
                st = server_states()
            except OSError as e:
                st = {"haproxy": f"stats socket: {e}"}
            for k, v in st.items():
                if last.get(k) != v:
                    self.timeline.add(f"HAProxy: {k} {v}")
            last = st
            time.sleep(0.1)


class Timeline:
    def __init__(self):
        self.t0 = time.time()
        self.events = []

    def add(self, text):
        self.events.append((time.time(), text))
        log(f"  {time.time() - self.t0:6.2f} s  {text}")

    def at(self, text):
        return next((t for t, e in self.events if e == text), None)

    def rows(self):
        return [{"t": round(t - self.t0, 2), "event": e} for t, e in self.events]


# ---- PostgreSQL -----------------------------------------------------------------------------

def psql(sql, port=5432, db=None):
    return subprocess.run(["psql", "-h", HOST, "-p", str(port), "-U", "postgres", "-d", db or DB, "-qAt",
                           "-v", "ON_ERROR_STOP=1", "-f", "-"], input=sql, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout.strip()


@functools.cache
def pg_version():
    return psql("SHOW server_version_num", db="postgres")[:2]


def replica_streaming(lsn):
    """The replica's WAL receiver streams and has received the primary's WAL up to lsn."""
    try:
        return psql(f"SELECT status = 'streaming' AND pg_last_wal_receive_lsn() >= '{lsn}' FROM pg_stat_wal_receiver",
                    port=5433, db="postgres") == "t"
    except subprocess.CalledProcessError:
        return False


def node_ready(n):
    """The node's /ready body (status and checks), or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{8080 + n}/ready", timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        try:
            return json.loads(e.read())
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


# ---- data -----------------------------------------------------------------------------------

def call(method, path, body=None, token=None, port=LB, ok=(200, 201)):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return e.code, None
        return e.code, e.read()[:300]


def text(rng, words):
    return " ".join(rng.choice(WORDS) for _ in range(words))


def owner(email, name, slug, org_name, password=PASSWORD, port=LB):
    """A user and the organization they own, made through the API or reused when they exist:
    a fresh access token (they live 15 minutes) and the organization."""
    st, _ = call("POST", "/api/v1/auth/register", {"email": email, "name": name, "password": password}, port=port,
                 ok=(201, 409))
    if st not in (201, 409):
        raise SystemExit(f"register {email}: {st}")
    st, tok = call("POST", "/api/v1/auth/login", {"email": email, "password": password}, port=port)
    if st != 200:
        raise SystemExit(f"login {email}: {st} {tok}")
    token = tok["accessToken"]
    st, org = call("POST", "/api/v1/organizations", {"name": org_name, "slug": slug}, token=token, port=port,
                   ok=(201, 409))
    if st == 409:
        st, page = call("GET", "/api/v1/organizations?limit=100", token=token, port=port)
        org = next(o for o in page["data"] if o["slug"] == slug)
    elif st != 201:
        raise SystemExit(f"create organization {slug}: {st} {org}")
    return token, org


def seed():
    """Owners, organizations, member API keys and documents, through the API; reused while the keys
    still work. Writes the wrk targets (reads.tsv, orgs.tsv, queries.txt) and returns them."""
    os.makedirs(TARGETS, exist_ok=True)
    path = f"{TARGETS}/targets.json"
    if os.path.exists(path):
        with open(path) as f:
            t = json.load(f)
        probe = t["orgs"][0]
        if call("GET", f"/api/v1/organizations/{probe['id']}/content?limit=1", token=probe["keys"][0])[0] == 200:
            write_targets(t)
            return t
        log("earlier targets do not work any more (database reset?): seeding again")
    t0 = time.time()
    rng = random.Random(14)
    orgs = []
    for i in range(ORGS):
        slug = f"cbench-{i}"
        token, org = owner(f"cluster-owner-{i}@cbench.arches.test", f"Owner {i}", slug, f"Cluster bench {i}")
        keys = []
        for k in range(KEYS_PER_ORG):
            st, key = call("POST", f"/api/v1/organizations/{org['id']}/api-keys",
                           {"name": f"cluster bench {k}", "role": "member"}, token=token)
            if st != 201:
                raise SystemExit(f"create API key: {st} {key}")
            keys.append(key["key"])
        have = int(psql(f"SELECT count(*) FROM content WHERE organization_id = '{org['id']}' "
                        "AND title LIKE 'Cluster seed %'"))
        for d in range(have, DOCS_PER_ORG):
            st, doc = call("POST", f"/api/v1/organizations/{org['id']}/content",
                           {"title": f"Cluster seed {i}-{d}: {text(rng, 3)}", "body": text(rng, 120),
                            "tags": ["cluster-bench", rng.choice(WORDS)]}, token=token)
            if st != 201:
                raise SystemExit(f"create document: {st} {doc}")
        orgs.append({"id": org["id"], "slug": slug, "keys": keys})
    ids = psql("SELECT organization_id || ' ' || id FROM content WHERE title LIKE 'Cluster seed %' AND "
               f"organization_id IN ({','.join(repr(o['id']) for o in orgs)})").split("\n")
    t = {"orgs": orgs, "docs": [line.split() for line in ids if line]}
    with open(path, "w") as f:
        json.dump(t, f)
    write_targets(t)
    log(f"seeded {ORGS} organizations, {ORGS * KEYS_PER_ORG} API keys, {len(t['docs'])} documents through the API "
        f"in {time.time() - t0:.1f} s")
    return t


def write_targets(t):
    keys = {o["id"]: o["keys"] for o in t["orgs"]}
    with open(f"{TARGETS}/reads.tsv", "w") as f:
        for org, doc in t["docs"]:
            for key in keys[org][:2]:
                f.write(f"{key}\t/api/v1/organizations/{org}/content/{doc}\n")
    with open(f"{TARGETS}/orgs.tsv", "w") as f:
        for o in t["orgs"]:
            for key in o["keys"]:
                f.write(f"{o['id']}\t{key}\n")
    with open(f"{TARGETS}/queries.txt", "w") as f:
        for q in QUERIES:
            f.write(json.dumps(q) + "\n")


def clean(quiet=False):
    """Deletes the documents the loads created (before a run, so every run measures the same data,
    and after it, once they are checked)."""
    n = psql("WITH d AS (DELETE FROM content WHERE title LIKE 'Cluster load note %' OR title LIKE 'Cluster write %' "
             "RETURNING 1) SELECT count(*) FROM d")
    if int(n) and not quiet:
        log(f"deleted {n} documents the loads created")
    psql("VACUUM (ANALYZE) content")


# ---- the mixed load (wrk) -----------------------------------------------------------------

def scrape_nodes():
    """db_replica_reads_total by target and the in-process cache's (L1) hits and lookups, summed
    over the nodes."""
    out = {}
    for n in NODES:
        with urllib.request.urlopen(f"http://{HOST}:{8080 + n}/metrics", timeout=10) as r:
            for line in r.read().decode().splitlines():
                m = bench.METRIC.match(line)
                if not m:
                    continue
                if m.group(1) == "db_replica_reads_total":
                    key = re.search(r'target="([^"]+)"', m.group(2)).group(1)
                elif m.group(1) == "cache_gets_total" and 'level="l1"' in m.group(2):
                    key = "l1 hit" if 'result="hit"' in m.group(2) else "l1 miss"
                else:
                    continue
                out[key] = out.get(key, 0.0) + float(m.group(3))
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot():
    """CPU seconds used so far by the nodes, HAProxy, PostgreSQL (primary and replica) and Redis,
    and the machine's busy and total seconds (/proc; the rest of busy is mostly wrk)."""
    nodes = {node_pid(n) for n in NODES} - {None}
    out = {"nodes": 0.0, "haproxy": 0.0, "postgres": 0.0, "redis": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        secs = (int(fields[11]) + int(fields[12])) / CLK_TCK
        group = ("nodes" if int(pid) in nodes else "haproxy" if comm == "haproxy" else
                 "postgres" if comm in ("postgres", "postmaster") else "redis" if comm.startswith("redis-serv")
                 else None)
        if group:
            out[group] += secs
    with open("/proc/stat") as f:
        jiffies = list(map(int, f.readline().split()[1:]))
    out["busy"] = (sum(jiffies) - jiffies[3] - jiffies[4]) / CLK_TCK
    out["total"] = sum(jiffies) / CLK_TCK
    return out


def mixed_run(label, port, connections, seconds):
    before, cpu0 = scrape_nodes(), cpu_snapshot()
    r = bench.wrk(f"http://{HOST}:{port}", connections, seconds, [TARGETS], script="bench/lua/cluster.lua")
    cpu1, after = cpu_snapshot(), scrape_nodes()
    d = lambda k: after.get(k, 0) - before.get(k, 0)
    replica, primary = d("replica"), d("primary")
    hits, lookups = d("l1 hit"), d("l1 hit") + d("l1 miss")
    cpu = {k: cpu1[k] - cpu0[k] for k in cpu0}
    reqs = max(r["requests"], 1)
    out = {"setup": label, "connections": connections, "seconds": seconds, "rps": round(r["rps"], 1),
           "p50": r["p50"], "p90": r["p90"], "p99": r["p99"], "max": r["max"], "requests": r["requests"],
           "errors": r["errors"], "timeouts": r["timeouts"], "status": r.get("status", {}),
           "replicaReads": int(replica), "primaryReads": int(primary),
           "replicaShare": round(replica / (replica + primary), 4) if replica + primary else None,
           "l1HitRatio": round(hits / lookups, 4) if lookups else None,
           # CPU ms per request by part, and how busy the machine's cores were.
           "cpuMsPerRequest": {k: round(cpu[k] * 1000 / reqs, 3) for k in ("nodes", "haproxy", "postgres", "redis")},
           "machineBusy": round(cpu["busy"] / cpu["total"], 3) if cpu["total"] else None}
    bad = {s: n for s, n in out["status"].items() if not s.startswith(("2", "3"))}
    log(f"{label:18s} c={connections:4d}: {r['rps']:7.0f} req/s  p50 {r['p50']:7.2f} ms  p99 {r['p99']:8.2f} ms  "
        f"errors {r['errors']} {bad or ''}  replica share {fmt(out['replicaShare'], '.3f')}  L1 hits "
        f"{fmt(out['l1HitRatio'], '.3f')}  CPU ms/req {out['cpuMsPerRequest']}  busy {out['machineBusy']}")
    return out


def run_mixed():
    """The same closed-loop mix three ways per connection level: all three nodes behind HAProxy,
    node 1 alone behind it (the others in maintenance), node 1 straight (the last two back to
    back: the balancer's cost). Interleaved, so a JIT still warming or a neighbour's load does not
    favour one setup."""
    a = cpu_snapshot()
    time.sleep(5)
    b = cpu_snapshot()
    idle = {k: round((b[k] - a[k]) / 5, 3) for k in ("nodes", "haproxy", "postgres", "redis", "busy")}
    log(f"idle for 5 s, cores used: {idle}")
    log(f"warming up all three nodes through HAProxy ({WARMUP_SECONDS} s, not measured)")
    bench.wrk(f"http://{HOST}:{LB}", 64, WARMUP_SECONDS, [TARGETS], script="bench/lua/cluster.lua")
    runs = [{"setup": "idle", "coresUsed": idle}]
    setups = [("haproxy, 3 nodes", LB), ("haproxy, 1 node", LB), ("direct, 1 node", 8081)]
    maint, back = False, 0.0  # node2 and node3 in maintenance; when they were last put back
    try:
        for rnd in range(MIX_ROUNDS):
            for c in LEVELS:
                # Each round starts the rotation elsewhere, so no setup always runs first.
                for k in range(len(setups)):
                    label, port = setups[(k + rnd) % len(setups)]
                    if label == "haproxy, 1 node" and not maint:
                        for n in NODES[1:]:
                            haproxy(f"set server nodes/node{n} state maint")
                        maint = True
                    elif label != "haproxy, 1 node" and maint:
                        # Back in service now: during a direct row they recover unseen.
                        for n in NODES[1:]:
                            haproxy(f"set server nodes/node{n} state ready")
                        maint, back = False, time.time()
                    if label == "haproxy, 3 nodes":
                        wait_up(NODES, 30)
                        # slowstart (5 s): a returning node takes its full share only after it.
                        time.sleep(max(0.0, back + 5.5 - time.time()))
                    r = mixed_run(label, port, c, MIX_SECONDS)
                    r["round"] = rnd
                    runs.append(r)
                    # Every row on the same data: the creates of one would slow the next one's
                    # lists and searches (a full run made ~13,000 of them).
                    clean(quiet=True)
    finally:
        for n in NODES[1:]:
            haproxy(f"set server nodes/node{n} state ready")
        wait_up(NODES, 30)
        time.sleep(5)
    return runs


# ---- the event loads (own client) ---------------------------------------------------------

class Load:
    """An open loop: request i is sent at t0 + i / rate whether or not earlier ones have been
    answered (a stalled request holds up nothing else), each on an idle keep-alive connection to
    the balancer or a new one. Runs an asyncio loop on a thread of its own. Every request is
    recorded: due time, end, method group, kind, status or error, Retry-After, and for creates the
    title and the id acknowledged."""

    IDLE_REUSE = 4.0  # HAProxy closes idle client connections after 10 s (timeout http-keep-alive)

    def __init__(self, make, rate, port=LB):
        self.make, self.rate, self.port = make, rate, port
        self.records = []
        self.stopping = threading.Event()

    def start(self, t0):
        self.t0 = t0
        self.thread = threading.Thread(target=lambda: asyncio.run(self.main()), daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(REQUEST_TIMEOUT + 10)

    async def main(self):
        self.idle = []
        tasks = set()
        i = 0
        while not self.stopping.is_set():
            due = self.t0 + i / self.rate
            wait = due - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(self.one(i, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        if tasks:
            await asyncio.wait(tasks)
        for _, w, _ in self.idle:
            w.close()

    async def one(self, i, due):
        method, path, headers, body, kind, title = self.make(i)
        group = method + (" + Idempotency-Key" if "Idempotency-Key" in headers else "")
        rec = {"due": due, "method": group, "kind": kind, "title": title}
        conn = None
        while self.idle:
            r, w, since = self.idle.pop()
            if time.time() - since < self.IDLE_REUSE and not r.at_eof():
                conn = (r, w)
                break
            w.close()
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection(HOST, self.port), REQUEST_TIMEOUT)
            r, w = conn
            data = body.encode() if body else b""
            head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}", f"Content-Length: {len(data)}"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            w.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
            status, hdrs, payload, keep = await asyncio.wait_for(read_response(r), REQUEST_TIMEOUT)
            rec["status"] = status
            rec["retryAfter"] = hdrs.get("retry-after")
            if kind == "create" and status == 201:
                rec["id"] = json.loads(payload)["id"]
            if keep:
                self.idle.append((r, w, time.time()))
            else:
                w.close()
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
            rec["error"] = type(e).__name__ + (f": {e}" if str(e) else "")
            if conn:
                conn[1].close()
        rec["end"] = time.time()
        self.records.append(rec)


async def read_response(r):
    """Status, headers (lower-case names), body and whether the connection may be reused."""
    line = await r.readline()
    if not line:
        raise ConnectionError("connection closed before any response")
    status = int(line.split()[1])
    hdrs = {}
    while True:
        h = await r.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, v = h.decode("latin-1").split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    keep = hdrs.get("connection", "").lower() != "close"
    if "content-length" in hdrs:
        body = await r.readexactly(int(hdrs["content-length"]))
    elif hdrs.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await r.readline()).split(b";")[0], 16)
            if size == 0:
                while (await r.readline()) not in (b"\r\n", b""):
                    pass
                break
            body += await r.readexactly(size)
            await r.readline()
    else:
        body = await r.read()
        keep = False
    return status, hdrs, body, keep


def get_mix(t):
    """GETs of the mix: document reads, content lists and member lists, spread over all keys."""
    docs, orgs = t["docs"], t["orgs"]
    keys = {o["id"]: o["keys"] for o in orgs}

    def make(i):
        p = i % 20
        if p < 14:
            org, doc = docs[i % len(docs)]
            return "GET", f"/api/v1/organizations/{org}/content/{doc}", auth(keys[org][i % KEYS_PER_ORG]), None, \
                "read", None
        o = orgs[i % len(orgs)]
        key = o["keys"][i % KEYS_PER_ORG]
        if p < 18:
            return "GET", f"/api/v1/organizations/{o['id']}/content?limit=20", auth(key), None, "list", None
        return "GET", f"/api/v1/organizations/{o['id']}/members", auth(key), None, "members", None
    return make


def creates(t, tag, key=True):
    """Creates with client-chosen unique titles, each carrying its own Idempotency-Key (key=False:
    none, so HAProxy never sends one twice)."""
    orgs = t["orgs"]
    tag = f"{tag}{next(STREAMS)}"

    def make(i):
        o = orgs[i % len(orgs)]
        title = f"Cluster write {tag}-{i}"
        h = auth(o["keys"][i % KEYS_PER_ORG])
        h["Content-Type"] = "application/json"
        if key:
            h["Idempotency-Key"] = str(uuid.uuid4())
        body = json.dumps({"title": title, "body": "Written by the cluster checks; must survive.",
                           "tags": ["cluster-bench"]})
        return "POST", f"/api/v1/organizations/{o['id']}/content", h, body, "create", title
    return make


def auth(key):
    return {"Authorization": "Bearer " + key}


def failed(r):
    if "error" in r:
        return True
    s = r["status"]
    return s >= 500 or (400 <= s < 500 and s not in EXPECTED_4XX)


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))], 2)


def outcome(records, t0, window):
    """Counts by method and kind, failures by status or error, latency percentiles over the whole
    run, before the first event and inside the event window; a per-second series."""
    out = {"requests": len(records), "byMethod": {}, "failures": {}, "window": [round(window[0] - t0, 2),
                                                                               round(window[1] - t0, 2)]}
    for r in records:
        m = out["byMethod"].setdefault(r["method"], {"requests": 0, "ok": 0, "failed": 0, "statuses": {}})
        m["requests"] += 1
        key = r.get("error") or str(r["status"])
        m["statuses"][key] = m["statuses"].get(key, 0) + 1
        if failed(r):
            m["failed"] += 1
            f = out["failures"].setdefault(f"{r['method']} {r['kind']}", {})
            label = r.get("error") or (f"{r['status']}" + (" (no Retry-After)" if r["status"] == 503 and
                                                           not r.get("retryAfter") else ""))
            f[label] = f.get(label, 0) + 1
        else:
            m["ok"] += 1
    lat = lambda rs: [(r["end"] - r["due"]) * 1000 for r in rs]
    inside = [r for r in records if window[0] <= r["due"] <= window[1]]
    # The first second is the senders' ramp (new connections), not the steady state.
    before = [r for r in records if t0 + 1 <= r["due"] < window[0]]
    out["latencyMs"] = {"all": {"p50": pct(lat(records), 50), "p99": pct(lat(records), 99),
                                "max": pct(lat(records), 100)},
                        "before": {"p50": pct(lat(before), 50), "p99": pct(lat(before), 99)},
                        "window": {"n": len(inside), "p50": pct(lat(inside), 50), "p99": pct(lat(inside), 99),
                                   "max": pct(lat(inside), 100)}}
    for group in sorted({r["method"] for r in records}):
        rs = [r for r in inside if r["method"] == group]
        out["latencyMs"]["window " + group] = {"n": len(rs), "p50": pct(lat(rs), 50), "p99": pct(lat(rs), 99),
                                               "max": pct(lat(rs), 100)}
    per_s = {}
    for r in records:
        per_s.setdefault(int(r["due"] - t0), []).append(r)
    # second (by due time), requests, failed, p99 ms
    out["perSecond"] = [[s, len(rs), sum(map(failed, rs)), pct(lat(rs), 99)] for s, rs in sorted(per_s.items())]
    return out


def sql_array(values, cast):
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + f"]::{cast}[]"


def verify_creates(records):
    """Every acknowledged create in the database (none lost), no title stored twice, and how many
    failed creates were stored all the same (their client cannot know; without an Idempotency-Key
    a retry would store them twice)."""
    made = [r for r in records if r["kind"] == "create"]
    if not made:
        return None
    acked = [r["id"] for r in made if r.get("id")]
    failed_titles = [r["title"] for r in made if not r.get("id")]
    missing = psql(f"SELECT count(*) FROM unnest({sql_array(acked, 'uuid')}) a "
                   "WHERE NOT EXISTS (SELECT 1 FROM content c WHERE c.id = a)") if acked else "0"
    dups = [line.split("|") for line in psql(
        f"SELECT title, count(*) FROM content WHERE title = ANY({sql_array([r['title'] for r in made], 'text')}) "
        "GROUP BY title HAVING count(*) > 1 ORDER BY title").splitlines() if line]
    by_title = {r["title"]: r for r in made}
    # What the client saw of each create stored twice (HAProxy's log has its tries).
    twice = [{"title": t, "copies": int(n), "requests": by_title[t]["method"],
              "answer": by_title[t].get("status") or by_title[t].get("error"),
              "due": round(by_title[t]["due"], 3)} for t, n in dups]
    stored_anyway = psql("SELECT count(DISTINCT title) FROM content WHERE title = "
                         f"ANY({sql_array(failed_titles, 'text')})") if failed_titles else "0"
    return {"acknowledged": len(acked), "lost": int(missing), "duplicatedTitles": len(twice),
            "extraCopies": sum(d["copies"] - 1 for d in twice), "storedTwice": twice[:20],
            "failedButStored": int(stored_anyway), "failedCreates": len(failed_titles)}


def run_event(name, loads, event):
    """Warms the nodes up (a node restarted by the phase before is a cold JVM; not in check mode,
    which counts failures only), starts the loads, runs event(timeline) (which returns the event
    window), stops the loads."""
    if not CHECK:
        bench.wrk(f"http://{HOST}:{LB}", 16, 3, [TARGETS], script="bench/lua/cluster.lua")
    log_from = os.path.getsize(HAPROXY_LOG) if os.path.exists(HAPROXY_LOG) else 0
    tl = Timeline()
    mon = Monitor(tl)
    mon.start()
    t0 = time.time() + 0.2
    tl.t0 = t0
    for ld in loads:
        ld.start(t0)
    try:
        time.sleep(BEFORE)
        window = event(tl)
        time.sleep(AFTER)
    finally:
        for ld in loads:
            ld.stop()
        mon.stop.set()
        mon.join()
    records = [r for ld in loads for r in ld.records]
    res = outcome(records, t0, window)
    res["timeline"] = tl.rows()
    res["creates"] = verify_creates(records)
    res["haproxy"] = haproxy_log(log_from)
    res["checks"] = {"no acknowledged create lost": res["creates"]["lost"] == 0,
                     # HAProxy must never send a create without an Idempotency-Key twice.
                     "no keyless create stored twice": not any(d["requests"] == "POST"
                                                               for d in res["creates"]["storedTwice"])}
    return res, records, tl


HAPROXY_LOG = os.path.join(STATE, "haproxy.log")
# httplog: ... server Tq/Tw/Tc/Tr/Ta status bytes - - TERM act/fe/be/srv/retries queues "request"
HTTPLOG = re.compile(r' (\S+) -?\d+/-?\d+/-?\d+/-?\d+/\+?\d+ (\d{3}) .* (\S{4}) \d+/\d+/\d+/\d+/(\+?)(\d+) \d+/\d+ "')


def haproxy_log(offset):
    """What HAProxy's log (one line per request) says about the phase's requests: how many it
    sent again (retries, and those to another node), and the termination states other than ----."""
    out = {"requests": 0, "retried": 0, "redispatched": 0, "termination": {}, "answeredByHaproxy": 0}
    try:
        with open(HAPROXY_LOG, "rb") as f:
            f.seek(offset)
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        m = HTTPLOG.search(line)
        if not m:
            continue
        server, status, term, plus, retries = m.groups()
        out["requests"] += 1
        if int(retries):
            out["retried"] += 1
            out["redispatched"] += bool(plus)
        if term != "----":
            out["termination"][term] = out["termination"].get(term, 0) + 1
        if server.endswith("<NOSRV>"):
            out["answeredByHaproxy"] += 1
    return out


def event_kill(tl):
    tl.add("kill-node 2 (SIGKILL)")
    start = time.time()
    cluster_sh("kill-node", 2)
    # Started at once: the JVM takes several seconds before it listens, longer than the health
    # checks need to take it out.
    tl.add("start-node 2")
    cluster_sh("start-node", 2)
    tl.add("node2 /ready 200")
    wait_up([2], 30)
    tl.add("node2 UP in HAProxy (the wait ends)")
    return start, time.time() + 2


def event_rolling(tl):
    start = time.time()
    for n in NODES:
        tl.add(f"stop-node {n} (SIGTERM)")
        cluster_sh("stop-node", n)
        tl.add(f"node{n} exited")
        cluster_sh("start-node", n)
        tl.add(f"node{n} /ready 200")
        wait_up([n], 30)
        tl.add(f"node{n} UP in HAProxy (the wait ends)")
    return start, time.time() + 2


class Primary:
    """PostgreSQL restarted mid-run (outage=0), or stopped for `outage` seconds and started again;
    then how long until the replica streams again and every node's /ready says replica: up.
    `since`: where recovery is measured from: the restart's beginning, or the moment the started
    primary accepts connections again."""

    def __init__(self, outage=0):
        self.outage = outage
        self.replica = {}
        pg_version()  # asked while the primary answers

    def __call__(self, tl):
        start = self.began = time.time()
        if self.outage:
            tl.add("pg_ctlcluster stop (begins)")
            try:
                pg_ctl("stop")
                tl.add("pg_ctlcluster stop returned")
                time.sleep(self.outage)
            finally:
                began = time.time()
                tl.add("pg_ctlcluster start (begins)")
                pg_ctl("start")
            up = self.since = time.time()
            tl.add("pg_ctlcluster start returned (primary accepting connections)")
        else:
            began = self.since = start
            tl.add("pg_ctlcluster restart (begins)")
            pg_ctl("restart")
            up = time.time()
            tl.add("pg_ctlcluster restart returned (primary accepting connections)")
        # Reconnected: streaming, and received WAL the primary wrote after it came back. The nodes'
        # /ready counts only from then on (before, a node may not have noticed the break yet).
        lsn = psql("SELECT pg_current_wal_lsn()", db="postgres")
        pending = {"replica streaming"} | {f"node{n} replica up" for n in NODES}
        while pending and time.time() - up < REPLICA_BOUND + 10:
            if "replica streaming" in pending and replica_streaming(lsn):
                pending.discard("replica streaming")
                self.replica["replica streaming"] = round(time.time() - up, 2)
                tl.add("replica streaming again (pg_stat_wal_receiver), past the primary's position at start")
            for n in NODES:
                k = f"node{n} replica up"
                body = node_ready(n) if k in pending and "replica streaming" not in pending else None
                if body and body.get("checks", {}).get("replica") == "up" and body.get("status") == "ready":
                    pending.discard(k)
                    self.replica[k] = round(time.time() - up, 2)
                    tl.add(f"node{n} /ready: ready, replica: up")
            time.sleep(0.1)
        for k in pending:
            self.replica[k] = None
        # How long `pg_ctlcluster restart` (or `start`) took: until the primary accepted connections.
        self.restartSeconds = round(up - began, 2)
        return start, time.time()


def pg_ctl(action):
    # Run from Python, the lock's descriptor is not inherited (the shell form needs `9>&-`).
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", action], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def recovery(records, t_event, since):
    """Creates around the event (t_event: the restart's or the stop's beginning). recoverySeconds:
    from `since` to the due time of the first successful create due after the last failed one
    (0 when every create due after `since` succeeded): from then on new creates succeed;
    longestGapSeconds: the longest time after t_event with no successful create completing
    (requests that hang count here, not as failures); the failures' due times from t_event."""
    rs = sorted(records, key=lambda r: r["due"])
    ok_ends = sorted(r["end"] for r in rs if not failed(r) and r["end"] >= t_event)
    gap = max((b - a for a, b in zip([t_event] + ok_ends, ok_ends)), default=None)
    fails = [r for r in rs if failed(r)]
    last = max([since] + [r["due"] for r in fails])
    first_ok = next((r["due"] for r in rs if r["due"] >= last and not failed(r)), None)
    return {"failed": len(fails), "longestGapSeconds": round(gap, 2) if gap is not None else None,
            "recoverySeconds": round(max(0.0, first_ok - since), 2) if first_ok else None,
            "firstFailure": round(fails[0]["due"] - t_event, 2) if fails else None,
            "lastFailure": round(fails[-1]["due"] - t_event, 2) if fails else None}


def run_kill(t):
    log(f"node kill: GETs {GET_RATE}/s + creates with Idempotency-Keys {POST_RATE}/s")
    res, records, tl = run_event("kill", [Load(get_mix(t), GET_RATE), Load(creates(t, RUN + "kill"), POST_RATE)],
                                 event_kill)
    get = res["byMethod"].get("GET", {})
    res["checks"] = {"no failed GET": get.get("failed", 1) == 0, **res["checks"]}
    return res


def run_rolling(t):
    log(f"rolling restart: GETs {GET_RATE}/s + creates with Idempotency-Keys {POST_RATE}/s + creates without "
        f"{PLAIN_RATE}/s")
    # Creates without a key too: HAProxy never retries those, so they fail if a drain ever needs a retry.
    res, records, tl = run_event("rolling", [Load(get_mix(t), GET_RATE), Load(creates(t, RUN + "roll"), POST_RATE),
                                             Load(creates(t, RUN + "rollplain", key=False), PLAIN_RATE)],
                                 event_rolling)
    res["checks"] = {"no failed request": all(m["failed"] == 0 for m in res["byMethod"].values()), **res["checks"]}
    return res


def run_primary(t, outage=0):
    """The restart (outage 0) or the outage phase, with the PostgreSQL goals as checks."""
    what = f"primary down {outage} s" if outage else "primary restart"
    log(f"{what}: creates with unique titles and Idempotency-Keys {WRITE_RATE}/s, creates without {PLAIN_RATE}/s, "
        f"GETs of the mix {GET_RATE // 2}/s")
    ev = Primary(outage)
    tag = RUN + ("pgdown" if outage else "pg")
    # Keyless creates too: HAProxy never retries them, so they show each node's own answer.
    res, records, tl = run_event("primary", [Load(creates(t, tag), WRITE_RATE),
                                             Load(creates(t, tag + "plain", key=False), PLAIN_RATE),
                                             Load(get_mix(t), GET_RATE // 2)], ev)
    res["recovery"] = recovery([r for r in records if r["kind"] == "create"], ev.began, ev.since)
    res["restartSeconds"] = ev.restartSeconds
    res["replica"] = ev.replica
    res["outageSeconds"] = outage
    fails = [r for r in records if failed(r)]
    rec = res["recovery"]["recoverySeconds"]
    gap = res["recovery"]["longestGapSeconds"]
    since = "the primary accepts connections again" if outage else "the restart began"
    res["checks"] = {
        # A keyed create whose first attempt is still in flight (held by the outage) is answered 409
        # with Retry-After, as Idempotency-Key promises: a "come back later", like the 503.
        "failures only 503 (or 409 for a keyed retry in flight) with Retry-After":
            all((r.get("status") == 503 or (r.get("status") == 409 and r["method"].endswith("Idempotency-Key")))
                and r.get("retryAfter") for r in fails),
        "no 500": not any(r.get("status") == 500 for r in records),
        f"creates succeed again within {RECOVERY_GOAL:.0f} s after {since}":
            rec is not None and rec < RECOVERY_GOAL and (outage or gap is not None and gap < RECOVERY_GOAL),
        **res["checks"],
        f"replica streaming and every node replica: up within {REPLICA_BOUND:.0f} s":
            all(v is not None and v <= REPLICA_BOUND for v in ev.replica.values()),
    }
    return res


# ---- locking and reporting ------------------------------------------------------------------

class BenchLock:
    """/tmp/arches-bench.lock around the load phases, so no two loads (or builds) overlap. Python
    opens it non-inheritable: nodes and PostgreSQL started meanwhile never hold it. A caller that
    ran this under `flock /tmp/arches-bench.lock` already holds it."""

    def __enter__(self):
        self.f = None
        self.waited = 0.0
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}") == LOCK:
                    log(f"{LOCK}: held by the caller")
                    return self
            except OSError:
                pass
        self.f = open(LOCK, "a")
        t = time.time()
        fcntl.flock(self.f, fcntl.LOCK_EX)
        self.waited = round(time.time() - t, 1)
        if time.time() - t > 1:
            log(f"{LOCK}: waited {time.time() - t:.0f} s")
        return self

    def __exit__(self, *exc):
        if self.f:
            fcntl.flock(self.f, fcntl.LOCK_UN)
            self.f.close()


def fmt(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def statuses(m):
    return ", ".join(f"{k} × {v}" for k, v in sorted(m["statuses"].items()))


PHASES = [("kill", "Node killed (SIGKILL) and started again"),
          ("rolling", "Rolling restart (SIGTERM: drain, exit; start; one node at a time)"),
          ("restart", "PostgreSQL primary restarted (`pg_ctlcluster restart`)"),
          ("outage", "PostgreSQL primary stopped for a few seconds, then started")]


def event_md(title, res, goal):
    L = [f"## {title}", "", goal, "",
         "| requests | count | ok | failed | outcomes | p50 ms in window | p99 ms in window | max ms |",
         "|---|---|---|---|---|---|---|---|"]
    lat = res["latencyMs"]
    for method, m in sorted(res["byMethod"].items()):
        w = lat.get("window " + method, {})
        L.append(f"| {method} | {m['requests']} | {m['ok']} | {m['failed']} | {statuses(m)} | {fmt(w.get('p50'))} | "
                 f"{fmt(w.get('p99'))} | {fmt(w.get('max'))} |")
    w = res["window"]
    L += ["", f"Latency from due time, all requests: before the event (after a 1 s ramp) p50 {fmt(lat['before']['p50'])} "
              f"ms, p99 {fmt(lat['before']['p99'])} ms; event window ({w[0]}-{w[1]} s, {lat['window']['n']} requests) "
              f"p50 {fmt(lat['window']['p50'])} ms, **p99 {fmt(lat['window']['p99'])} ms**, max "
              f"{fmt(lat['window']['max'])} ms."]
    if res["failures"]:
        L.append("Failures: " + "; ".join(f"{k}: " + ", ".join(f"{s} × {n}" for s, n in v.items())
                                          for k, v in res["failures"].items()) + ".")
    c = res.get("creates")
    if c:
        L.append(f"Creates checked in the database: {c['acknowledged']} acknowledged (201), **{c['lost']} lost**; "
                 f"{c['duplicatedTitles']} stored more than once ({c['extraCopies']} extra rows); "
                 f"{c['failedButStored']} of {c['failedCreates']} failed creates stored anyway.")
        keyed = [d for d in c["storedTwice"] if d["requests"] != "POST"]
        if keyed:
            L.append(f"Stored twice with an Idempotency-Key ({', '.join(d['title'] for d in keyed)}; the client saw "
                     f"{', '.join(str(d['answer']) for d in keyed)}): HAProxy sent the create again (its node died "
                     "or answered 503) although the first try had committed, and the node that took the retry did "
                     "not recognise the key.")
    h = res.get("haproxy")
    if h and h["requests"]:
        term = ", ".join(f"{k} × {v}" for k, v in h["termination"].items()) or "none"
        L.append(f"HAProxy's log for the phase: {h['requests']} requests, {h['retried']} sent more than once "
                 f"({h['redispatched']} to another node), {h['answeredByHaproxy']} answered by HAProxy itself; "
                 f"abnormal terminations: {term}.")
    slow = [f"{s}: {n} due, {f} failed, p99 {fmt(p, '.0f')} ms" for s, n, f, p in res["perSecond"]
            if f or (p or 0) > 4 * max(lat["before"]["p99"] or 1, 25)]
    if slow:
        L.append("Seconds (by due time) with failures or a p99 above 4 × the baseline: " + "; ".join(slow) + ".")
    L += ["", "Timeline (s from the load's start):", "", "| s | event |", "|---|---|"]
    L += [f"| {e['t']:.2f} | {e['event']} |" for e in res["timeline"] if "-shared" not in e["event"]]
    L += ["", "Checks: " + "; ".join(f"{k}: {'pass' if v else '**FAIL**'}" for k, v in res["checks"].items()), ""]
    return L


def median_rows(runs):
    """One row per setup and level: the median of each figure over the rounds."""
    out = {}
    for r in runs:
        out.setdefault((r["setup"], r["connections"]), []).append(r)
    med = statistics.median
    rows = {}
    for key, rs in out.items():
        nz = lambda f: [f(x) for x in rs if f(x) is not None]
        rows[key] = {
            "setup": key[0], "connections": key[1], "rounds": [round(x["rps"]) for x in rs],
            **{k: med([x[k] for x in rs]) for k in ("rps", "p50", "p90", "p99", "max")},
            "errors": sum(x["errors"] for x in rs),
            "bad": sum(n for x in rs for st, n in x["status"].items() if not st.startswith(("2", "3"))),
            "cpu": {k: med([x["cpuMsPerRequest"][k] for x in rs]) for k in rs[0]["cpuMsPerRequest"]},
            "busy": med(nz(lambda x: x["machineBusy"])) if nz(lambda x: x["machineBusy"]) else None,
            "l1": med(nz(lambda x: x["l1HitRatio"])) if nz(lambda x: x["l1HitRatio"]) else None,
            "replicaReads": sum(x["replicaReads"] for x in rs), "primaryReads": sum(x["primaryReads"] for x in rs)}
    return rows


def mixed_md(runs):
    idle = runs[0]["coresUsed"]
    runs = runs[1:]
    rounds = max(r.get("round", 0) for r in runs) + 1
    by = median_rows(runs)
    L = ["## Mixed load: balancer cost and three-node scaling", "",
         "wrk (2 threads, closed loop) with bench/lua/cluster.lua: 70% document reads, 15% content lists "
         "(following cursors), 5% member lists, 5% hybrid searches, 5% creates (no Idempotency-Key), over "
         f"{ORGS} organizations and {ORGS * KEYS_PER_ORG} API keys, after a {WARMUP_SECONDS} s warm-up through "
         f"HAProxy. {rounds} round(s) of {MIX_SECONDS} s rows, every setup at every level, the order rotated per "
         "round; each figure is the median over the rounds (req/s of every round beside it). `haproxy, 1 node`: "
         "node2 and node3 in maintenance (runtime API); `direct`: the same load to node1's port.", "",
         "| setup | conns | req/s | req/s by round | p50 ms | p90 ms | p99 ms | max ms | errors | non-2xx |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(by, key=lambda k: (k[1], k[0])):
        r = by[key]
        L.append(f"| {r['setup']} | {r['connections']} | {r['rps']:.0f} | {', '.join(map(str, r['rounds']))} | "
                 f"{r['p50']:.2f} | {r['p90']:.2f} | {r['p99']:.2f} | {r['max']:.1f} | {r['errors']} | {r['bad']} |")
    L += ["", "Where the CPU went (CPU ms per request from /proc, by part, medians; `busy`: share of both cores in "
              "use, the rest of it mostly wrk), the nodes' in-process cache hits, and reads that may go to the "
              "replica (summed over the rounds):",
          "", "| setup | conns | nodes | HAProxy | PostgreSQL | Redis | busy | L1 hits | replica reads | primary reads "
              "| replica share |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(by, key=lambda k: (k[1], k[0])):
        r = by[key]
        c = r["cpu"]
        total = r["replicaReads"] + r["primaryReads"]
        L.append(f"| {r['setup']} | {r['connections']} | {c['nodes']:.3f} | {c['haproxy']:.3f} | "
                 f"{c['postgres']:.3f} | {c['redis']:.3f} | {fmt(r['busy'] * 100 if r['busy'] else None)}% | "
                 f"{fmt(r['l1'] * 100 if r['l1'] is not None else None)}% | {r['replicaReads']} | "
                 f"{r['primaryReads']} | {fmt(r['replicaReads'] / total * 100 if total else None)}% |")
    L += ["", "| conns | HAProxy's cost, p50 | p99 | req/s through HAProxy (1 node) / direct | HAProxy CPU ms/request "
              "| req/s 3 nodes / 1 node (both through HAProxy) |", "|---|---|---|---|---|---|"]
    for c in LEVELS:
        d, one, three = by[("direct, 1 node", c)], by[("haproxy, 1 node", c)], by[("haproxy, 3 nodes", c)]
        L.append(f"| {c} | {one['p50'] - d['p50']:+.2f} ms | {one['p99'] - d['p99']:+.2f} ms | "
                 f"{one['rps'] / d['rps']:.2f} | {one['cpu']['haproxy']:.3f} | {three['rps'] / one['rps']:.2f} |")
    top = max(LEVELS)
    d, one, three = by[("direct, 1 node", top)], by[("haproxy, 1 node", top)], by[("haproxy, 3 nodes", top)]
    busy = min(r["busy"] or 0 for r in by.values())
    ratio = three["cpu"]["nodes"] / max(one["cpu"]["nodes"], 1e-9)
    more = f"{ratio:.1f}× the CPU per request of one" if ratio > 1.1 else "about the CPU per request of one"
    L += ["", f"HAProxy's own CPU: {min(by[('haproxy, 1 node', c)]['cpu']['haproxy'] for c in LEVELS):.3f}-"
              f"{max(by[('haproxy, 1 node', c)]['cpu']['haproxy'] for c in LEVELS):.3f} ms per request. At {top} "
              f"connections the balanced setup served {one['rps'] / d['rps']:.2f}× the direct requests/s (p50 "
              f"{one['p50'] - d['p50']:+.1f} ms, p99 {one['p99'] - d['p99']:+.1f} ms): on a machine whose cores are "
              f"all busy, the balancer's CPU comes out of the nodes' share. Three nodes served "
              f"{three['rps'] / one['rps']:.2f}× one node's requests/s there; the cores were at least "
              f"{busy * 100:.1f}% busy in every row: the load is CPU-bound on this one 2-core machine, and three "
              f"JVMs on the same two cores cost {more} ({three['cpu']['nodes']:.3f} against "
              f"{one['cpu']['nodes']:.3f} ms in the nodes: each JVM's own background work, JIT and collector, and "
              "in-process caches that each see a third of the traffic). More nodes add capacity only with more "
              "cores, i.e. on more machines; here they buy availability (the phases below), not throughput.",
          "", f"Idle (5 s before the warm-up, no load): the three nodes used {idle['nodes'] * 100:.1f}% of one core "
              f"together, PostgreSQL {idle['postgres'] * 100:.1f}%, HAProxy {idle['haproxy'] * 100:.1f}%; the "
              f"machine {idle['busy'] * 100:.1f}% (other work on it included)."]
    rep = sum(r["replicaReads"] for r in runs)
    pri = sum(r["primaryReads"] for r in runs)
    L += ["", f"Replica read share (db_replica_reads_total by target, summed over the three nodes' /metrics, "
              f"after minus before each row): {rep} reads on the replica, {pri} on the primary, "
              f"**{rep / (rep + pri) * 100 if rep + pri else 0:.1f}%** on the replica over all rows. The counter "
              "covers reads that may be stale (member lists, uncached searches and the like); document reads and "
              "content list pages come from the cache, filled from the primary, and are not in it; reads right "
              "after the caller's own write wait for the replica or go to the primary (read-your-writes).", ""]
    return L


def summary_lines(out):
    lines = []
    for name, _ in PHASES:
        res = out.get(name)
        if not res:
            continue
        counts = ", ".join(f"{k} {v['failed']}/{v['requests']} failed" for k, v in sorted(res["byMethod"].items()))
        lines.append(f"{name:8s} {counts}; window p99 {fmt(res['latencyMs']['window']['p99'])} ms; creates lost "
                     f"{res['creates']['lost']}, stored twice {res['creates']['duplicatedTitles']}")
        if res["failures"]:
            lines.append("         failures: " + "; ".join(f"{k}: " + ", ".join(f"{s} × {n}" for s, n in v.items())
                                                        for k, v in res["failures"].items()))
        if "recovery" in res:
            rc = res["recovery"]
            lines.append(f"         creates due {fmt(rc['recoverySeconds'], '.2f')} s after it on succeeded (longest gap without a "
                         f"successful create {fmt(rc['longestGapSeconds'], '.2f')} s); replica "
                         + ", ".join(f"{k} {fmt(v, '.2f')} s" for k, v in res["replica"].items()))
        lines += [f"         {'pass' if v else 'FAIL'}: {k}" for k, v in res["checks"].items()]
    return lines


def main():
    t_start = time.time()
    ensure_wrk()
    bench.raise_fd_limit()
    ensure_cluster()
    out = {}
    with BenchLock() as lock:
        meta_lock = lock.waited
        t = seed()
        clean()
        if not CHECK:
            out["mixed"] = run_mixed()
        for name, run in (("kill", run_kill), ("rolling", run_rolling), ("restart", run_primary),
                          ("outage", lambda t: run_primary(t, OUTAGE))):
            t_phase = time.time()
            out[name] = run(t)
            out[name]["phaseSeconds"] = round(time.time() - t_phase, 1)
            log(f"{name}: {out[name]['phaseSeconds']} s")
        clean()
    took = round(time.time() - t_start - meta_lock)
    checks = {f"{name}: {k}": v for name, _ in PHASES for k, v in out[name]["checks"].items()}
    print("\n".join(["", "=" * 78, f"cluster {'check' if CHECK else 'bench'} ({'QUICK' if QUICK else 'full'}, "
                     f"{took} s, not counting {meta_lock} s waiting for {LOCK})"] + summary_lines(out) + ["=" * 78]))
    if CHECK:
        failed_checks = [k for k, v in checks.items() if not v]
        if failed_checks:
            print("cluster-check FAILED: " + "; ".join(failed_checks))
            sys.exit(1)
        print("cluster-check passed")
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], text=True, stdout=subprocess.PIPE).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], text=True,
                           stdout=subprocess.PIPE).stdout.strip()
    meta = {"date": datetime.date.today().isoformat(), "commit": commit + ("-dirty" if dirty else ""),
            "machine": bench.machine(), "mode": "QUICK" if QUICK else "full", "seconds": took,
            "nodeEnv": NODE_ENV, "rates": {"get": GET_RATE, "post": POST_RATE, "plainPost": PLAIN_RATE,
                                           "write": WRITE_RATE}, "outageSeconds": OUTAGE}
    stem = f"bench/results/{meta['date']}-{meta['commit']}-cluster{'-quick' if QUICK else ''}"
    os.makedirs("bench/results", exist_ok=True)
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, **out}, f, indent=1)
    with open(stem + ".md", "w") as f:
        f.write("\n".join(report(meta, out)))
    print(f"report: {stem}.md")


def report(meta, out):
    L = [f"# Arches cluster bench {meta['date']} ({meta['commit']})", "",
         f"- Machine: {meta['machine']}. All of it on this one machine: three nodes, HAProxy, the PostgreSQL "
         "primary and its replica, Redis, and the load generators. The figures are relative to this machine.",
         f"- Mode: {meta['mode']}; `make bench-cluster{' QUICK=1' if QUICK else ''}` took {meta['seconds']} s.",
         f"- Nodes: scripts/cluster.sh's settings (pool 20, drain_delay 3s, shutdown_grace 10s) plus "
         f"{', '.join(f'`{k}={v}`' for k, v in NODE_ENV.items())}; HAProxy: deploy/haproxy/haproxy.cfg.",
         f"- Event loads (bench/cluster.py's own open-loop client: request i is due at a fixed time whatever "
         f"earlier ones are doing; latency from the due time): GETs of the mix {GET_RATE}/s (document reads 70%, "
         f"content lists 20%, member lists 10%) and creates carrying unique Idempotency-Keys {POST_RATE}/s; the "
         f"rolling restart adds creates without a key ({PLAIN_RATE}/s), which HAProxy never sends twice; the "
         f"PostgreSQL phases send creates with keys at {WRITE_RATE}/s, without at {PLAIN_RATE}/s and GETs at "
         f"{GET_RATE // 2}/s. A failure: a socket error, a 5xx, a 4xx. Every create has a unique title; the "
         "database is checked afterwards.", ""]
    if out.get("mixed"):
        L += mixed_md(out["mixed"])
    goals = {"kill": "Goal: no failed GET (HAProxy retries safe requests and those with an Idempotency-Key on "
                     "another node).",
             "rolling": "Goal: no failed request of any method, keyless creates included.",
             "restart": f"Goals: failures only 503 with Retry-After, never 500; creates succeed again within "
                        f"{RECOVERY_GOAL:.0f} s of the restart's beginning; every acknowledged create stored; the "
                        f"replica streaming and every node's /ready `replica: up` within {REPLICA_BOUND:.0f} s.",
             "outage": f"The primary down {meta['outageSeconds']} s (`pg_ctlcluster stop`, then `start`). Goals: "
                       f"failures only 503 with Retry-After, never 500; creates succeed again within "
                       f"{RECOVERY_GOAL:.0f} s of the primary accepting connections; every acknowledged create "
                       "stored; the replica back as above."}
    for name, title in PHASES:
        res = out[name]
        L += event_md(title, res, goals[name])
        if "recovery" in res:
            rc = res["recovery"]
            event = "the restart" if name == "restart" else "the stop"
            since = "the restart began" if name == "restart" else "the primary accepted connections again"
            fails = (f"{rc['failed']} creates failed, due {fmt(rc['firstFailure'], '.2f')} s to "
                     f"{fmt(rc['lastFailure'], '.2f')} s after {event} began" if rc["failed"] else "No create failed")
            L[-1:-1] = [f"`pg_ctlcluster {'restart' if name == 'restart' else 'start'}` took {res['restartSeconds']} "
                        f"s. {fails}; creates due from **{fmt(rc['recoverySeconds'], '.2f')} s** after {since} on all "
                        f"succeeded; the longest time without a create completing successfully, from {event}'s "
                        f"beginning: {fmt(rc['longestGapSeconds'], '.2f')} s (creates waiting count here). "
                        "From the primary accepting connections: "
                        + ", ".join(f"{k} after {fmt(v, '.2f')} s" for k, v in res["replica"].items()) + ".", ""]
    return L


def ensure_wrk():
    if not shutil.which("wrk"):
        log("installing wrk (Debian package)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()

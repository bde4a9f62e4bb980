#!/usr/bin/env python3
"""Arches performance harness: `make bench` (or `make bench QUICK=1`).

Starts the platform with production settings on its own database, seeds (or reuses) a realistic
data set, drives it with wrk (closed loop, rising connections) and the project's open-loop
generator (fixed arrival rates, latency from the due time), reads server-side figures from
/metrics, measures the machine's own limits (nginx static, pgbench -S, redis-benchmark GET),
times the guide's query classes against PostgreSQL, and writes bench/results/<date>-<commit>.md
(and .json) plus a PNG chart. Standard library only.

Sections (ARCHES_BENCH_ONLY=a,b,... runs only those; default all, in this order):
  ceiling    bare Helidon SE JSON hello (HelloServer) against GET /health and cached reads (hotpath.py)
  uncached   uncached single-row reads (Redis off, L1 at its floor) against pgbench -S (hotpath.py)
  search     background embedding (drain), recall@10, closed-loop load per search mode
  novel      search with never-seen query texts against the same texts with vectors cached, and
             SearchDirect, the pgvector statement straight over JDBC (hotpath.py)
  openloop   mixed 80/15/5 from 5,000 connections at rising offered rates, GC pauses (hotpath.py)
  scenarios  CRUD scenarios, closed loop (wrk) and open loop (OpenLoop)
  runs       workflow runs: one-step throughput, enqueue-to-start at 200/s, a 10-node fan-out, a node
             killed mid-step (runs.py)
  limits     nginx static, pgbench -S, redis-benchmark GET
  queries    the guide's query classes over JDBC
Every section but limits and queries starts the platform on a seeded database first. A run of
some sections writes bench/results/<date>-<commit>-<section+section>[-quick].{md,json}; the summary
printed at the end gives each goal's figure, its ratio and met/MISSED.
"""
import datetime
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import hotpath
import runs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)

QUICK = os.environ.get("QUICK", "") not in ("", "0")
SECTIONS = ["ceiling", "uncached", "search", "novel", "openloop", "scenarios", "runs", "limits", "queries"]
ONLY = [x.strip() for x in os.environ.get("ARCHES_BENCH_ONLY", "").split(",") if x.strip()] or SECTIONS
if set(ONLY) - set(SECTIONS):
    raise SystemExit(f"ARCHES_BENCH_ONLY: unknown section(s) {sorted(set(ONLY) - set(SECTIONS))}; "
                     f"known: {','.join(SECTIONS)}")
PORT = int(os.environ.get("ARCHES_BENCH_PORT", "18080"))
NGINX_PORT = PORT + 1
ADMIN_PORT = PORT + 2
DB = os.environ.get("ARCHES_BENCH_DB", "arches_bench")
# Measured on this 2-core machine (closed loop, 256 connections): pool 4 and 8 served mixed load at
# ~2,700 req/s, 16 at 2,500 and 48 at 1,600; PostgreSQL thrashes with more backends than cores can run.
POOL = os.environ.get("ARCHES_BENCH_POOL", "8")
HOST = "127.0.0.1"
BASE = f"http://{HOST}:{PORT}"
SECRET = "bench-secret-bench-secret-bench-secret-0123"
TARGETS = os.path.join(ROOT, "target", "bench")
# ARCHES_BENCH_JVM_FLAGS replaces the GC and heap flags (to compare collectors in one place).
JVM_FLAGS = os.environ.get("ARCHES_BENCH_JVM_FLAGS", "-XX:+UseParallelGC -Xms2g -Xmx4g").split() \
    + ["--enable-native-access=ALL-UNNAMED"]

SCENARIOS = ["read-uniform", "read-zipf", "list", "create", "login", "mixed"]
CONNECTIONS = [64, 1000] if QUICK else [64, 256, 1000, 5000]
LOGIN_CONNECTIONS = [64] if QUICK else [64, 256]
DURATION = 3 if QUICK else 10
OPEN_FRACTIONS = [0.5] if QUICK else [0.25, 0.5, 0.75]
OPEN_DURATION = 3 if QUICK else 10
OPEN_WARMUP = 1 if QUICK else 2
QUERY_ITERATIONS = 100 if QUICK else 500
WARMUP = 6 if QUICK else 20
TARGET = {"p50": 50.0, "p95": 200.0, "p99": 500.0, "rps": 10000, "users": 5000}
# Search: a corpus of manual pages (SearchCorpus; vectors cached in bench/data), a quality run
# (recall@10 against exact search) and closed-loop load per mode over corpus-large.
SEARCH_PASSAGES = 15000 if QUICK else 100000
SEARCH_MODES = ["semantic", "keyword", "hybrid"]
SEARCH_CONNECTIONS = [64, 256]
SEARCH_TARGET = {"recall": 0.95, "p95": 50.0}
DATA_DIR = "bench/data"
INDEX_DEADLINE = 600 if QUICK else 1800
DRAIN_DEADLINE = 300 if QUICK else 600
SETTLE_DEADLINE = 120


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, text=True,
                          stdout=subprocess.PIPE, **kw).stdout


def java_home():
    return sh(["scripts/java-home.sh"]).strip()


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def psql(db, sql, user="postgres"):
    return sh(["psql", "-h", HOST, "-U", user, "-d", db, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql]).strip()


def ensure_tools():
    need = {"wrk": "wrk", "nginx": "nginx-light", "gnuplot": "gnuplot-nox", "redis-benchmark": "redis-tools",
            "pgbench": "postgresql-contrib"}
    missing = [pkg for tool, pkg in need.items() if not shutil.which(tool)]
    if missing:
        log(f"installing {' '.join(missing)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        r = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + missing, env=env, stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, check=True)
            subprocess.run(sudo + ["apt-get", "install", "-y", "-qq"] + missing, env=env, check=True,
                           stdout=subprocess.DEVNULL)


def build(env):
    log("building (jar, bench classes)")
    sh(["./mvnw", "-q", "-B", "-DskipTests", "package"], env=env)
    sh(["./mvnw", "-q", "-B", "-DskipTests", "test-compile"], env=env)
    sh(["./mvnw", "-q", "-B", "dependency:build-classpath", "-Dmdep.includeScope=test",
        "-Dmdep.outputFile=target/bench.classpath"], env=env)
    with open("target/bench.classpath") as f:
        return "target/test-classes:target/classes:" + f.read().strip()


def size_postgres():
    """PostgreSQL as a production server is set up: shared_buffers large enough to hold the hot
    tables and the vector index (Debian's 128 MB holds neither the 200 MB HNSW index nor the
    passages, so each search re-read ~500 pages from the OS cache and took twice as long).
    ARCHES_BENCH_SHARED_BUFFERS (default 4GB, a sixth of this machine) sets it; changing it
    restarts the cluster once."""
    want = os.environ.get("ARCHES_BENCH_SHARED_BUFFERS", "4GB")
    have = psql("postgres", "SHOW shared_buffers")
    if have.lower() != want.lower():
        log(f"PostgreSQL shared_buffers {have} -> {want} (ALTER SYSTEM, restarting the cluster)")
        psql("postgres", f"ALTER SYSTEM SET shared_buffers = '{want}'")
        version = psql("postgres", "SHOW server_version_num")[:2]
        sh(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"])
    return psql("postgres", "SHOW shared_buffers")


def ensure_database():
    if psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DB}'") != "1":
        log(f"creating database {DB}")
        psql("postgres", f'CREATE DATABASE "{DB}" OWNER arches')
    psql(DB, "CREATE EXTENSION IF NOT EXISTS vector")
    # For the admin listener's /debug/queries (make setup preloads the library).
    psql(DB, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


SERVER_STARTS = [0]


def start_server(jhome, append=False, workers=None, cache_results=False, extra_env=None):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("ARCHES_") and not k.startswith("ARCHES_BENCH_"):
            del env[k]
    env.update({
        "ARCHES_SERVER_PORT": str(PORT), "ARCHES_SERVER_HOST": HOST,
        # The operators' listener beside nginx's port, so a run can be profiled while it measures.
        "ARCHES_ADMIN_PORT": str(ADMIN_PORT),
        "ARCHES_DATABASE_URL": f"jdbc:postgresql://{HOST}:5432/{DB}",
        "ARCHES_DATABASE_POOL_MAX_CONNECTIONS": POOL, "ARCHES_DATABASE_POOL_MIN_CONNECTIONS": POOL,
        "ARCHES_AUTH_TOKEN_SECRET": SECRET,
        "ARCHES_LOG_ACCESS": "false",
        # Thousands of requests a second from 5,000 users would hit the production limit of
        # 100 per minute at once; the bench measures the platform, not the limiter.
        "ARCHES_RATE_LIMIT_MAX_REQUESTS": "1000000000",
        # Each run registers its template user (409 once it exists), and registrations per address
        # are limited (10 an hour): the sixth run within an hour failed with 429.
        "ARCHES_RATE_LIMIT_REGISTER_MAX_PER_ADDRESS": "1000000",
        "ARCHES_RATE_LIMIT_ENABLED": os.environ.get("ARCHES_BENCH_RATE_LIMIT", "true"),
        # Search is measured against the index, not the result cache (query vectors stay cached).
        "ARCHES_SEARCH_CACHE_RESULTS": "true" if cache_results else "false",
    })
    env.update(search_overrides())
    if workers is not None:
        env["ARCHES_EMBEDDING_WORKERS"] = str(workers)
    env.update(extra_env or {})
    logf = open("target/bench-server.log", "a" if append else "w")
    # GC pauses to a file of this start's own (the open loop reports them per step).
    SERVER_STARTS[0] += 1
    gc_log = f"target/bench-gc-{SERVER_STARTS[0]}.log"
    if os.path.exists(gc_log):
        os.remove(gc_log)
    proc = subprocess.Popen([f"{jhome}/bin/java"] + JVM_FLAGS + [f"-Xlog:gc:file={gc_log}", "-jar",
                                                                 "target/arches.jar"], env=env,
                            stdout=logf, stderr=subprocess.STDOUT, preexec_fn=raise_fd_limit)
    proc.gc_log = gc_log
    await_ok(proc, f"{BASE}/ready", 120, "server", "target/bench-server.log")
    return proc


def await_ok(proc, url, seconds, name, log):
    """Waits until url answers 200; stops the bench if proc exits or the time runs out."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited; see {log}")
        time.sleep(0.3)
    raise SystemExit(f"{name} did not answer 200 at {url} within {seconds} s")


def search_overrides():
    """Search settings a run may change: ARCHES_BENCH_SEARCH_INDEX, ARCHES_BENCH_EF_SEARCH,
    ARCHES_BENCH_HNSW_M, ARCHES_BENCH_EF_CONSTRUCTION, ARCHES_BENCH_EXACT_THRESHOLD (defaults:
    arches.yaml's)."""
    out = {}
    for bench, server in (("ARCHES_BENCH_SEARCH_INDEX", "ARCHES_SEARCH_INDEX"),
                          ("ARCHES_BENCH_EF_SEARCH", "ARCHES_SEARCH_HNSW_EF_SEARCH"),
                          ("ARCHES_BENCH_HNSW_M", "ARCHES_SEARCH_HNSW_M"),
                          ("ARCHES_BENCH_EF_CONSTRUCTION", "ARCHES_SEARCH_HNSW_EF_CONSTRUCTION"),
                          ("ARCHES_BENCH_EXACT_THRESHOLD", "ARCHES_SEARCH_EXACT_THRESHOLD")):
        if os.environ.get(bench):
            out[server] = os.environ[bench]
    return out


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def post_json(path, body):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def template_hash():
    """The password hash of a user registered through the API (the seeders copy it to their users)."""
    email = "bench-template@bench.arches.test"
    status = post_json("/api/v1/auth/register", {"email": email, "name": "Template", "password": "bench-password"})
    if status not in (201, 409):
        raise SystemExit(f"could not register the template user: {status}")
    return psql(DB, f"SELECT password_hash FROM users WHERE email = '{email}'", user="arches")


def seed(jhome, cp):
    hash_ = template_hash()
    url = f"jdbc:postgresql://{HOST}:5432/{DB}"
    t = time.time()
    if hash_:
        out = sh([f"{jhome}/bin/java", "-cp", cp, "ai.arches.bench.BenchData", "seed", url, "arches", hash_])
    else:
        out = "seed: present, reused\n"
    seeded = {"reused": "reused" in out, "seconds": round(time.time() - t, 1), "line": out.strip()}
    log(out.strip())
    # Settle the database before measuring: hint bits, visibility map and statistics now, and dirty
    # pages written, so neither first reads nor autovacuum nor a checkpoint work behind a measurement.
    t = time.time()
    removed = psql(DB, "WITH d AS (DELETE FROM content WHERE title LIKE 'Load test note %' RETURNING 1) "
                       "SELECT count(*) FROM d")
    log(f"removed {removed} rows earlier runs created, so every run measures the same data set")
    psql(DB, "VACUUM (ANALYZE)")
    psql(DB, "CHECKPOINT")
    log(f"database settled (VACUUM ANALYZE, CHECKPOINT) in {time.time() - t:.1f} s")
    log(sh([f"{jhome}/bin/java", "-cp", cp, "ai.arches.bench.BenchData", "targets", url, "arches", SECRET,
            TARGETS]).strip())
    counts = psql(DB, "SELECT (SELECT count(*) FROM organizations) || ' ' || (SELECT count(*) FROM users) || ' ' || "
                      "(SELECT count(*) FROM content) || ' ' || (SELECT count(*) FROM workflows)", user="arches")
    seeded["counts"] = dict(zip(["organizations", "users", "content", "workflows"], map(int, counts.split())))
    return seeded


# ---- server-side figures ------------------------------------------------------------------

METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eEinfNa]+)$')


def scrape():
    with urllib.request.urlopen(f"{BASE}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = METRIC.match(line)
        if m:
            out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def delta(before, after, name, label_filter=None):
    total = 0.0
    for (n, labels), v in after.items():
        if n == name and (label_filter is None or label_filter in labels):
            total += v - before.get((n, labels), 0.0)
    return total


def server_figures(before, after):
    waits = delta(before, after, "db_pool_wait_seconds_count")
    wait_sum = delta(before, after, "db_pool_wait_seconds_sum")
    queries = {}
    for (n, labels), v in after.items():
        if n == "db_query_duration_seconds_count":
            qt = re.search(r'query_type="([^"]+)"', labels).group(1)
            cnt = v - before.get((n, labels), 0.0)
            if cnt > 0:
                s = delta(before, after, "db_query_duration_seconds_sum", f'query_type="{qt}"')
                queries[qt] = (cnt, s / cnt * 1000)
    top = sorted(queries.items(), key=lambda kv: -kv[1][0] * kv[1][1])[:3]
    l1_hits = delta(before, after, "cache_gets_total", 'level="l1",result="hit"')
    l1_all = delta(before, after, "cache_gets_total", 'level="l1"')
    l2_hits = delta(before, after, "cache_gets_total", 'level="l2",result="hit"')
    loads = delta(before, after, "cache_loads_total")
    lookups = l1_hits + l2_hits + loads
    return {
        # Share of cache lookups answered without PostgreSQL (from L1, or from Redis after an L1 miss).
        "cacheHitRatio": round((l1_hits + l2_hits) / lookups, 4) if lookups > 0 else None,
        "l1HitRatio": round(l1_hits / l1_all, 4) if l1_all > 0 else None,
        "poolWaitMeanMs": round(wait_sum / waits * 1000, 3) if waits else 0.0,
        "dbQueries": {k: round(ms, 3) for k, (c, ms) in top},
    }


# ---- load ---------------------------------------------------------------------------------

def wrk(url, connections, seconds, script_args=None, script="bench/lua/scenario.lua", headers=None):
    threads = 2
    cmd = ["wrk", "-t", str(threads), "-c", str(max(connections, threads)), "-d", f"{seconds}s", "--timeout", "10s",
           "--latency", "-s", script]
    for h in headers or []:
        cmd += ["-H", h]
    cmd.append(url)
    if script_args:
        cmd += ["--"] + script_args
    out = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         preexec_fn=raise_fd_limit).stdout
    m = re.search(r"BENCHJSON (\{.*\})", out)
    if not m:
        raise SystemExit("wrk failed:\n" + out)
    r = json.loads(m.group(1))
    extra = re.search(r"BENCHEXTRA (\{.*\})", out)
    if extra:
        r.update(json.loads(extra.group(1)))
    r["rps"] = r["requests"] / (r["durationUs"] / 1e6)
    r["errors"] = r["connectErrors"] + r["readErrors"] + r["writeErrors"] + r["statusErrors"]
    return r


def open_loop(jhome, cp, scenario, rate, connections=512):
    # ZGC for the generator: its own GC pauses would delay sends and count as server latency
    # (ParallelGC paused the generator up to 194 ms).
    out = sh([f"{jhome}/bin/java", "-XX:+UseZGC", "-Xms1g", "-cp", cp, "ai.arches.bench.OpenLoop", BASE, TARGETS,
              scenario, str(rate), str(OPEN_DURATION), str(connections), str(OPEN_WARMUP)],
             preexec_fn=raise_fd_limit)
    return json.loads(out.strip().splitlines()[-1])


def warm_up():
    """JIT-compile the server's hot paths before measuring: a cold JVM served the first scenario
    at a fifth of its warm throughput, which read as a platform problem in the first baseline."""
    for sc in ("mixed", "read-uniform"):
        wrk(BASE, 64, WARMUP // 2, [sc, TARGETS])


def run_scenarios(jhome, cp):
    results = {}
    for sc in SCENARIOS:
        levels = LOGIN_CONNECTIONS if sc == "login" else CONNECTIONS
        closed = []
        for c in levels:
            settle = settle_backlog(f"{sc} c={c}")
            before = scrape()
            r = wrk(BASE, c, DURATION, [sc, TARGETS])
            r.update(server_figures(before, scrape()))
            r["connections"] = c
            r["backlogBefore"] = settle
            closed.append(r)
            log(f"{sc:12s} closed c={c:5d}: {r['rps']:8.0f} req/s  p50 {r['p50']:7.2f} ms  p99 {r['p99']:8.2f} ms"
                f"  errors {r['errors']} timeouts {r['timeouts']}  pool wait {r['poolWaitMeanMs']} ms  cache hits {hit(r)}")
        best = max(r["rps"] for r in closed)
        opened = []
        for f in OPEN_FRACTIONS:
            rate = max(1, int(best * f))
            settle = settle_backlog(f"{sc} open {rate}/s")
            r = open_loop(jhome, cp, sc, rate)
            r["backlogBefore"] = settle
            opened.append(r)
            log(f"{sc:12s} open   {rate:6d}/s: achieved {r['achievedRate']:8.0f}  p50 {r['p50']:7.2f} ms"
                f"  p99 {r['p99']:8.2f} ms  p99.9 {r['p999']:8.2f} ms  errors {r['errors']}")
        results[sc] = {"closed": closed, "open": opened}
    return results


# ---- search --------------------------------------------------------------------------------

CORPUS_SLUGS = "('org-1001', 'org-1002', 'org-1003')"


def backlog():
    """Documents waiting for vectors (pending) and being embedded (processing), from the table."""
    row = psql(DB, "SELECT count(*) FILTER (WHERE embedding_status = 'pending') || ' ' || "
                   "count(*) FILTER (WHERE embedding_status = 'processing') FROM content "
                   "WHERE embedding_status IN ('pending', 'processing')", user="arches")
    pending, processing = map(int, row.split())
    return pending, processing


def park_crud_backlog():
    """BenchData's 200,000 CRUD documents predate embeddings and arrive pending; embedding them
    would keep both cores busy for most of an hour and put ~600,000 vectors of license sentences
    into the index. They are marked failed ('bench: not embedded') instead, so the workers leave
    them alone and search is measured on the man-page corpus alone."""
    n = int(psql(DB, "WITH p AS (UPDATE content SET embedding_status = 'failed', embedding_error = 'bench: not embedded', "
                     "embedding_claim = NULL, embedding_claimed_at = NULL "
                     "WHERE embedding_status IN ('pending', 'processing') AND title NOT LIKE 'Load test note %' "
                     f"AND organization_id NOT IN (SELECT id FROM organizations WHERE slug IN {CORPUS_SLUGS}) "
                     "RETURNING 1) SELECT count(*) FROM p", user="arches"))
    total = int(psql(DB, "SELECT count(*) FROM content WHERE embedding_error = 'bench: not embedded'", user="arches"))
    if n:
        # The update left n dead rows: vacuumed now, not by autovacuum in the middle of a measurement.
        psql(DB, "VACUUM (ANALYZE) content")
        log(f"parked {n} CRUD documents the workers would have embedded (status failed, 'bench: not embedded')")
    return {"parkedNow": n, "parkedTotal": total}


def settle_backlog(label):
    """Nothing may be pending or processing when a measurement starts: documents that load tests
    created and the workers have not reached yet are deleted (every run measures the same data),
    then the rest drains. Returns what was found, for the report."""
    busy = quiesce()
    pending, processing = backlog()
    removed = 0
    if pending + processing:
        removed = int(psql(DB, "WITH d AS (DELETE FROM content WHERE title LIKE 'Load test note %' AND "
                               "embedding_status IN ('pending', 'processing') RETURNING 1) SELECT count(*) FROM d"))
        deadline = time.time() + SETTLE_DEADLINE
        # A backlog no worker takes (the sections run did not start the embedding workers) would
        # only cost the deadline: waiting stops once nothing is processing and nothing moved for 3 s.
        last, still = None, time.time()
        while time.time() < deadline:
            now = backlog()
            if not sum(now):
                break
            if now != last:
                last, still = now, time.time()
            elif now[1] == 0 and time.time() - still > 3:
                break
            time.sleep(0.5)
    left = sum(backlog())
    note = f"{pending} pending, {processing} processing"
    if removed:
        note += f"; removed {removed} queued load-test documents"
    if left:
        note += f"; **{left} still queued after {SETTLE_DEADLINE} s**"
    if busy:
        note += f"; **{busy} statements of the last run still running after {SETTLE_DEADLINE} s**"
    log(f"embedding backlog before {label}: {note}")
    return {"pending": pending, "processing": processing, "removed": removed, "left": left, "busy": busy}


def quiesce():
    """wrk stops sending when its time is up, but the server still answers what it had queued
    (behind the fair gate when statements are slow); measuring then would charge that work to the
    next run. Waits until no statement of the server's is running, twice in a row."""
    sql = (f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{DB}' AND application_name = 'arches' "
           "AND state = 'active'")
    deadline = time.time() + SETTLE_DEADLINE
    quiet = 0
    while True:
        busy = int(psql(DB, sql))
        quiet = quiet + 1 if busy == 0 else 0
        if quiet == 2 or time.time() > deadline:
            return busy
        time.sleep(0.2)


def stream(cmd):
    """Runs a command, echoing its output as it comes (the corpus embedding prints progress)."""
    proc = subprocess.Popen(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    for line in proc.stdout:
        line = line.rstrip()
        lines.append(line)
        if line.startswith(("corpus", "search")):
            log(line)
    if proc.wait() != 0:
        raise SystemExit(f"{' '.join(cmd[-7:-5])} failed:\n" + "\n".join(lines[-30:]))
    return lines


def vector_index():
    row = psql(DB, "SELECT c.relname || ' ' || i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   "WHERE c.relname LIKE 'idx\\_passages\\_embedding\\_%' ORDER BY i.indisvalid DESC LIMIT 1")
    if not row:
        return None, False
    name, valid = row.split()
    return name, valid in ("t", "true")


def wait_for_index():
    """The server builds the vector index in the background at start-up (CREATE INDEX
    CONCURRENTLY); measuring before it is valid would measure exact scans."""
    t = time.time()
    last = 0
    while time.time() - t < INDEX_DEADLINE:
        name, valid = vector_index()
        if valid:
            secs = round(time.time() - t, 1)
            definition = psql(DB, f"SELECT pg_get_indexdef('{name}'::regclass)")
            size = psql(DB, f"SELECT pg_size_pretty(pg_relation_size('{name}'::regclass))")
            log(f"vector index {name} valid ({size}; waited {secs} s)")
            return {"name": name, "definition": definition, "size": size, "waitSeconds": secs}
        if time.time() - last > 30:
            last = time.time()
            progress = psql(DB, "SELECT phase || ' ' || blocks_done || '/' || blocks_total || ' blocks, ' || "
                                "tuples_done || '/' || tuples_total || ' tuples' FROM pg_stat_progress_create_index")
            log(f"waiting for the vector index ({name or 'not started'}): {progress or '-'}")
        time.sleep(2)
    raise SystemExit(f"no valid vector index (idx_passages_embedding_%) after {INDEX_DEADLINE} s; "
                     "see target/bench-server.log")


def search_setup(jhome, cp, srv):
    """Parks BenchData's backlog, seeds (or reuses) the corpus, restarts the server with the
    embedding workers on, waits for the vector index and writes the search targets."""
    url = f"jdbc:postgresql://{HOST}:5432/{DB}"
    parked = park_crud_backlog()
    lines = stream([f"{jhome}/bin/java", "-Xmx6g", "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                    "ai.arches.bench.SearchCorpus", "seed", url, "arches", template_hash(), DATA_DIR,
                    str(SEARCH_PASSAGES)])
    corpus = json.loads(next(l for l in lines if l.startswith("SEARCHCORPUS "))[len("SEARCHCORPUS "):])
    if not corpus["reused"]:
        # The CRUD targets were written before the corpus was (re)seeded under new ids: write
        # them again, or the read scenarios would ask for documents that are gone (404s).
        log(sh([f"{jhome}/bin/java", "-cp", cp, "ai.arches.bench.BenchData", "targets", url, "arches", SECRET,
                TARGETS]).strip())
    # Seeding ran with the embedding workers off (they would have started on BenchData's documents);
    # the measured server runs with them on, and builds the vector index at start-up if it is missing.
    log("restarting the server with the embedding workers on")
    stop_server(srv[0])
    srv[0] = start_server(jhome, append=True)
    corpus["index"] = wait_for_index()
    corpus["parked"] = parked
    psql(DB, "VACUUM (ANALYZE) content_passages")
    log(sh([f"{jhome}/bin/java", "-cp", cp, "ai.arches.bench.SearchCorpus", "targets", url, "arches", SECRET,
            TARGETS, DATA_DIR, str(SEARCH_PASSAGES)], stderr=subprocess.DEVNULL).strip().splitlines()[-1])
    corpus["settings"] = search_settings(corpus["index"]["name"])
    return corpus


def search_settings(index):
    """What the search ran with: arches.yaml's defaults unless a bench override changed them."""
    o = search_overrides()
    return {"index": index, "kind": o.get("ARCHES_SEARCH_INDEX", "hnsw"),
            "efSearch": int(o.get("ARCHES_SEARCH_HNSW_EF_SEARCH", 200)),
            "exactThreshold": int(o.get("ARCHES_SEARCH_EXACT_THRESHOLD", 20000)), "cacheResults": False}


def search_orgs():
    out = {}
    with open(f"{TARGETS}/search-orgs.tsv") as f:
        for line in f:
            name, id_, viewer, member, docs, passages = line.rstrip("\n").split("\t")
            out[name] = {"id": id_, "viewer": viewer, "member": member, "documents": int(docs),
                         "passages": int(passages)}
    return out


def metric(m, name, label=""):
    return sum(v for (n, labels), v in m.items() if n == name and label in labels)


def drain():
    """Documents written through the API are embedded by the server's workers: ~100 held-out pages
    go into corpus-drain, then the backlog metric is polled to zero. Their rate is the workers'
    throughput on this machine (both cores, the server otherwise idle)."""
    org = search_orgs()["corpus-drain"]
    psql(DB, f"DELETE FROM content WHERE organization_id = '{org['id']}'")
    before_backlog = settle_backlog("the drain")
    with open(f"{TARGETS}/search-drain.jsonl") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    before = scrape()
    t0 = time.time()
    for d in docs:
        req = urllib.request.Request(f"{BASE}/api/v1/organizations/{org['id']}/content", data=json.dumps(d).encode(),
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": "Bearer " + org["member"]})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                r.read()
        except urllib.error.HTTPError as e:
            raise SystemExit(f"drain: creating a document answered {e.code}: {e.read()[:300]!r}")
    posted = time.time() - t0
    deadline = t0 + DRAIN_DEADLINE
    seen_metric = False
    while True:
        m = scrape()
        gauge = None
        if ("embedding_backlog", '{status="pending"}') in m:
            seen_metric = True
            gauge = metric(m, "embedding_backlog", 'status="pending"') + metric(m, "embedding_backlog",
                                                                               'status="processing"')
        left = int(psql(DB, f"SELECT count(*) FROM content WHERE organization_id = '{org['id']}' "
                            "AND embedding_status <> 'ready'"))
        if left == 0 and (gauge is None or gauge == 0):
            break
        if time.time() > deadline:
            raise SystemExit(f"drain: {left} documents not ready after {DRAIN_DEADLINE} s")
        time.sleep(0.25)
    secs = time.time() - t0
    passages = int(psql(DB, f"SELECT count(*) FROM content_passages WHERE organization_id = '{org['id']}' "
                            "AND embedding IS NOT NULL"))
    failed = int(psql(DB, f"SELECT count(*) FROM content WHERE organization_id = '{org['id']}' "
                          "AND embedding_status = 'failed'"))
    after = scrape()
    ready = delta(before, after, "embedding_documents_total", 'result="ready"')
    r = {"documents": len(docs), "passages": passages, "seconds": round(secs, 2), "postSeconds": round(posted, 2),
         "docsPerSec": round(len(docs) / secs, 1), "passagesPerSec": round(passages / secs, 1),
         "readyMetricDelta": ready, "failed": failed, "backlogMetric": seen_metric, "backlogBefore": before_backlog}
    log(f"drain: {len(docs)} documents ({passages} passages) embedded by the workers in {secs:.1f} s: "
        f"{r['docsPerSec']} docs/s, {r['passagesPerSec']} passages/s (embedding_documents_total ready "
        f"+{ready:.0f}{'' if seen_metric else '; no embedding_backlog metric, polled the table'})")
    return r


def quality(jhome, cp):
    """Recall@10 of semantic search per organization against exact search (SearchQuality). Also
    puts every query's vector in the server's cache before the load runs."""
    settle = settle_backlog("the quality run")
    p = subprocess.run([f"{jhome}/bin/java", "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                        "ai.arches.bench.SearchQuality", BASE, f"jdbc:postgresql://{HOST}:5432/{DB}", "arches", TARGETS],
                       text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in p.stderr.splitlines():
        if line.startswith(("search", "quality")):
            log(line)
    if p.returncode != 0:
        raise SystemExit("SearchQuality failed:\n" + p.stderr[-3000:])
    q = json.loads(p.stdout.strip().splitlines()[-1])
    q["backlogBefore"] = settle
    for name, r in q["orgs"].items():
        log(f"quality {name:13s}: recall@10 {r['recall']:.4f} (min {r['minRecall']}, {q['queries']} queries, "
            f"{r['passages']} passages)  unloaded API p50 {r['apiP50']} ms p95 {r['apiP95']} ms  "
            f"errors {r['errors']}  {mark(r['recall'] >= SEARCH_TARGET['recall'])}")
    return q


def run_search(jhome, cp, srv):
    """Every mode against the index (result cache off), then hybrid once more as production runs
    it, with result pages cached: the same 260 queries recur, so that run measures the cache."""
    out = {"drain": drain(), "quality": quality(jhome, cp), "load": {}}
    log(f"warming up the search path ({WARMUP // 2} s of hybrid, not measured)")
    wrk(BASE, 64, WARMUP // 2, ["hybrid", TARGETS], script="bench/lua/search.lua")
    for mode in SEARCH_MODES + ["similar"]:
        out["load"][mode] = search_load(mode, [64] if mode == "similar" else SEARCH_CONNECTIONS)
    log("restarting the server with search results cached (the production default)")
    stop_server(srv[0])
    srv[0] = start_server(jhome, append=True, cache_results=True)
    wrk(BASE, 64, WARMUP // 2, ["hybrid", TARGETS], script="bench/lua/search.lua")
    out["load"]["hybrid cached"] = search_load("hybrid", SEARCH_CONNECTIONS, "hybrid cached")
    log("restarting the server as before (result cache off) for the CRUD scenarios")
    stop_server(srv[0])
    srv[0] = start_server(jhome, append=True)
    warm_up()
    return out


def search_load(mode, connections, label=None):
    label = label or mode
    closed = []
    for c in connections:
        settle = settle_backlog(f"search {label} c={c}")
        before = scrape()
        r = wrk(BASE, c, DURATION, [mode, TARGETS], script="bench/lua/search.lua")
        r.update(server_figures(before, scrape()))
        r["connections"] = c
        r["backlogBefore"] = settle
        closed.append(r)
        log(f"search {label:13s} c={c:4d}: {r['rps']:8.0f} req/s  p50 {r['p50']:7.2f} ms  p95 {r['p95']:7.2f} ms  "
            f"p99 {r['p99']:8.2f} ms  errors {r['errors']} timeouts {r['timeouts']}"
            + (f"  p95 < {SEARCH_TARGET['p95']:.0f} ms {mark(search_p95_met(r))}" if c == 64 else ""))
    return closed


# ---- machine limits -----------------------------------------------------------------------

def nginx_limit():
    d = tempfile.mkdtemp(prefix="arches-nginx-")
    os.makedirs(f"{d}/logs")
    with open(f"{d}/item.json", "w") as f:
        f.write(json.dumps({"id": "01a2123d-fb2d-77b6-b6c3-d19530765c6b", "title": "Static", "body": "x" * 700}))
    conf = f"""worker_processes auto; pid {d}/nginx.pid; error_log {d}/logs/error.log;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 10000000; keepalive_timeout 60;
  server {{ listen {HOST}:{NGINX_PORT}; location / {{ root {d}; default_type application/json; }} }} }}"""
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(conf)
    subprocess.run(["nginx", "-c", f"{d}/nginx.conf", "-p", d], check=True, preexec_fn=raise_fd_limit)
    try:
        time.sleep(0.5)
        return {c: wrk(f"http://{HOST}:{NGINX_PORT}/item.json", c, DURATION, script="bench/lua/plain.lua")
                for c in ([64, 1000] if QUICK else [64, 256, 1000, 5000])}
    finally:
        subprocess.run(["nginx", "-c", f"{d}/nginx.conf", "-p", d, "-s", "stop"])
        shutil.rmtree(d, ignore_errors=True)


def pgbench_limit():
    db = "arches_pgbench"
    if psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'") != "1":
        psql("postgres", f"CREATE DATABASE {db}")
        sh(["pgbench", "-h", HOST, "-U", "postgres", "-i", "-q", "-s", "10", db], stderr=subprocess.DEVNULL)
    out = sh(["pgbench", "-h", HOST, "-U", "postgres", "-S", "-M", "prepared", "-c", "16", "-j", "2", "-T",
              str(DURATION), "-n", db], stderr=subprocess.DEVNULL)
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    lat = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    return {"tps": tps, "latencyMs": lat}


def redis_limit():
    out = sh(["redis-benchmark", "-h", HOST, "-t", "get", "-n", "200000" if not QUICK else "50000", "-c", "64", "-q"])
    return {"rps": float(re.search(r"GET: ([\d.]+) requests per second", out).group(1))}


def query_classes(jhome, cp):
    out = sh([f"{jhome}/bin/java", "-cp", cp, "ai.arches.bench.QueryClasses",
              f"jdbc:postgresql://{HOST}:5432/{DB}", "arches", str(QUERY_ITERATIONS)])
    return json.loads(out)


# ---- report -------------------------------------------------------------------------------

def hit(r):
    h = r.get("cacheHitRatio")
    return "-" if h is None else f"{h * 100:.1f}%"


def mark(ok):
    return "met" if ok else "**missed**"


def search_p95_met(r):
    """A run in which nothing completed met no latency target, whatever its (empty) percentiles say."""
    return r["requests"] > 0 and r["errors"] + r["timeouts"] == 0 and r["p95"] < SEARCH_TARGET["p95"]


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB"


def backlog_note(b):
    if not b:
        return "-"
    note = str(b["pending"] + b["processing"])
    if b["removed"]:
        note += f" (removed {b['removed']})"
    if b["left"]:
        note += f" **{b['left']} left**"
    if b.get("busy"):
        note += f" **{b['busy']} statements still running**"
    return note


def all_backlogs(results, search):
    out = []
    if search:
        out += [search["drain"]["backlogBefore"], search["quality"]["backlogBefore"]]
        out += [r["backlogBefore"] for rs in search["load"].values() for r in rs]
    out += [r.get("backlogBefore") for res in results.values() for r in res["closed"] + res["open"]]
    return [b for b in out if b]


def search_report(meta, search):
    c = meta["search"]
    st = c["settings"]
    q = search["quality"]
    d = search["drain"]
    vectors = ("reused from the database (seeded by an earlier run)" if c["reused"] else
               f"seeded by COPY this run: computed by `SearchCorpus` with the platform's model "
               f"({c['computedPassages']} passages embedded now in {c['embedSeconds']} s, the rest from the cache "
               f"in {DATA_DIR}/)")
    L = ["## Search", "",
         f"Corpus: this machine's manual pages (man1-8, gcloud's alpha/beta copies left out), cut as the platform cuts "
         f"them (64 words, 12 overlap, title as passage 0); {c['documents']} documents, {c['passages']} passages "
         f"(corpus key {c['key']}). Vectors of the corpus: {vectors}. Vectors of the drain documents: computed by "
         f"the server's workers.", "",
         "| organization | documents | passages | search path |", "|---|---|---|---|"]
    for name, o in c["organizations"].items():
        path = ("-" if name == "corpus-drain" else
                f"exact (≤ {st['exactThreshold']} passages)" if o["passages"] <= st["exactThreshold"] else "vector index")
        L.append(f"| {name} | {o['documents']} | {o['passages']} | {path} |")
    ix = c["index"]
    L += ["", f"Settings: `{ix['definition']}` ({ix['size']}; valid {ix['waitSeconds']} s after the seed step), "
              f"hnsw.ef_search {st['efSearch']}, exact_threshold {st['exactThreshold']}, result cache off (query "
              f"vectors cached; the quality run puts every query's there before the load). "
              f"BenchData's CRUD documents are not embedded ({c['parked']['parkedTotal']} parked as failed).", "",
          "### Background embedding (drain)", "",
          f"{d['documents']} held-out pages created through the API in corpus-drain ({d['postSeconds']} s of requests), "
          f"then `embedding_backlog` polled until zero{'' if d['backlogMetric'] else ' (metric absent: the table polled)'}.",
          "", "| documents | passages | seconds | docs/s | passages/s | failed | embedding_documents_total{ready} |",
          "|---|---|---|---|---|---|---|",
          f"| {d['documents']} | {d['passages']} | {d['seconds']} | {d['docsPerSec']} | {d['passagesPerSec']} | "
          f"{d['failed']} | +{d['readyMetricDelta']:.0f} |", ""]
    w = q.get("workers")
    if w:
        L += [f"Seeded vectors against the workers' (the drain documents cut again with `Passages(64, 12)` and "
              f"{w['checkedPassages']} of their passages embedded again here): {w['chunkMismatches']} of "
              f"{w['documents']} documents with another passage count, lowest cosine {w['minCosine']}.", ""]
    L += ["### Quality: recall@10 of semantic search against exact search", "",
          f"{q['queries']} queries ({q['queries'] - q['handWritten']} NAME lines of held-out pages, none of them "
          f"seeded, and {q['handWritten']} hand-written questions). Exact: the organization's every passage compared in SQL, best passage per "
          f"document (GROUP BY, which no index can serve); the query embedded by the same model. Ties with the tenth "
          f"count as found. One request at a time, so the latencies are unloaded ones.", "",
          "| organization | recall@10 | min | queries with 10/10 | < 10 results | errors | API p50 ms | API p95 ms | "
          "tookMs p50 | exact SQL p50 ms | ≥ 0.95 |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in q["orgs"].items():
        L.append(f"| {name} | {r['recall']:.4f} | {r['minRecall']} | {r['perfectShare'] * 100:.1f}% | "
                 f"{r['shortResults']} | {r['errors']} | {r['apiP50']} | {r['apiP95']} | {r['tookP50']} | "
                 f"{r['exactP50']} | {mark(r['recall'] >= SEARCH_TARGET['recall'])} |")
    worst = [f"{name}: {w}" for name, r in q["orgs"].items() for w in r.get("worst", [])]
    if worst:
        L += ["", "Lowest recall: " + "; ".join(worst[:6]) + "."]
    L += ["", "### Load: closed loop (wrk) over corpus-large, cycling through the query set", "",
          "Result cache off (every request runs its SQL), except `hybrid cached`: the production default, result "
          "pages cached per organization; with 260 recurring queries that row measures the cache, not the index.", "",
          "| mode | conns | req/s | p50 ms | p90 ms | p95 ms | p99 ms | p99.9 ms | errors | timeouts | pool wait ms | "
          "top DB statements (mean ms) | backlog before | p95 < 50 ms @64 |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for mode, rs in search["load"].items():
        for r in rs:
            dbq = ", ".join(f"{k} {v}" for k, v in r["dbQueries"].items())
            flag = mark(search_p95_met(r)) if r["connections"] == 64 else ""
            L.append(f"| {mode} | {r['connections']} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p90']:.2f} | "
                     f"{r['p95']:.2f} | {r['p99']:.2f} | {r['p999']:.2f} | {r['errors']} | {r['timeouts']} | "
                     f"{r['poolWaitMeanMs']} | {dbq} | {backlog_note(r['backlogBefore'])} | {flag} |")
    L.append("")
    return L


def nginx_ceiling(limits):
    return max(r["rps"] for r in limits["nginx"].values()) if limits else None


def report(meta, limits, results, search, queries, hot, png):
    """The Markdown report: only the sections that ran (ARCHES_BENCH_ONLY)."""
    nginx_best = nginx_ceiling(limits)
    backlogs = all_backlogs(results, search)
    removed = sum(b["removed"] for b in backlogs)
    left = sum(b["left"] for b in backlogs)
    L = [f"# Arches benchmark {meta['date']} ({meta['commit']})", "",
         f"- Machine: {meta['machine']}; load generators share it with the server (figures are conservative). "
         f"PostgreSQL 15, shared_buffers {meta['sharedBuffers']} (runs before 2026-12-02: Debian's 128MB).",
         f"- Mode: {'QUICK' if QUICK else 'full'}; closed loop {DURATION} s per level with wrk (2 threads), "
         f"open loop {OPEN_DURATION} s per rate with `ai.arches.bench.OpenLoop` (512 connections, latency from due time).",
         f"- Server: `{' '.join(JVM_FLAGS)}`, pool {POOL} connections behind the fair gate, access log off, "
         f"{WARMUP} s of unmeasured warm-up load first, rate limiting "
         f"{'on (limit raised out of reach; the check still runs)' if os.environ.get('ARCHES_BENCH_RATE_LIMIT', 'true') == 'true' else 'off'}.",
         f"- Sections: {', '.join(ONLY)}{' (ARCHES_BENCH_ONLY)' if ONLY != SECTIONS else ' (all)'}.",
         (f"- Data: {meta['seed']['counts']} ({'reused' if meta['seed']['reused'] else 'seeded'} in "
          f"{meta['seed']['seconds']} s)"
          + (f"; search corpus {meta['search']['documents']} documents, {meta['search']['passages']} passages "
             f"({'reused' if meta['search']['reused'] else 'seeded'})." if meta.get("search") else ".")
          if "seed" in meta else "- Data: not used (no platform section ran)."),
         f"- Background work: embedding workers on (production setting); every measurement started with "
         f"{'no' if not left else '**some**'} documents pending or processing ({len(backlogs)} checks"
         f"{f'; {removed} queued load-test documents removed first' if removed else ''}"
         f"{f'; **{left} still queued**' if left else ''}). Create and mixed queue documents for the workers as they run.",
         ""]
    L += hotpath.report(hot)
    if hot.get("runs"):
        L += runs.report(hot["runs"])
    if limits:
        L += machine_limits(limits)
    if results:
        L += ["", f"Targets: p50 < {TARGET['p50']:.0f} ms, p95 < {TARGET['p95']:.0f} ms, p99 < {TARGET['p99']:.0f} ms, "
              f"{TARGET['rps']} req/s, {TARGET['users']} concurrent connections served without errors.", ""]
    for sc, res in results.items():
        L += scenario_report(sc, res, nginx_best)
    if search:
        L += search_report(meta, search)
    if queries:
        L += query_report(queries)
    if results or search:
        L += ["", f"![latency against throughput]({os.path.basename(png)})", ""]
    return "\n".join(L)


def machine_limits(limits):
    L = ["## Machine limits", "", "| what | figure |", "|---|---|"]
    for c, r in limits["nginx"].items():
        L.append(f"| nginx static 700 B JSON, {c} connections | {r['rps']:.0f} req/s, p99 {r['p99']:.2f} ms |")
    L.append(f"| pgbench -S (16 clients, prepared) | {limits['pgbench']['tps']:.0f} tps, "
             f"{limits['pgbench']['latencyMs']:.2f} ms avg |")
    L.append(f"| redis-benchmark GET (64 clients) | {limits['redis']['rps']:.0f} req/s |")
    L.append("")
    return L


def scenario_report(sc, res, nginx_best):
    L = [f"## {sc}", "", "Closed loop (wrk; its percentiles understate tails under saturation):", "",
         "| conns | req/s | × nginx | p50 ms | p90 ms | p95 ms | p99 ms | p99.9 ms | errors | timeouts | "
         "pool wait ms | cache hits | top DB statements (mean ms) | p50 | p95 | p99 |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["closed"]:
        dbq = ", ".join(f"{k} {v}" for k, v in r["dbQueries"].items())
        x_nginx = f"{r['rps'] / nginx_best:.2f}" if nginx_best else "-"
        L.append(f"| {r['connections']} | {r['rps']:.0f} | {x_nginx} | {r['p50']:.2f} | "
                 f"{r['p90']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} | {r['p999']:.2f} | {r['errors']} | "
                 f"{r['timeouts']} | {r['poolWaitMeanMs']} | {hit(r)} | {dbq} | {mark(r['p50'] < TARGET['p50'])} | "
                 f"{mark(r['p95'] < TARGET['p95'])} | {mark(r['p99'] < TARGET['p99'])} |")
    L += ["", "Open loop (fixed arrival rate; honest percentiles):", "",
          "| target req/s | achieved | p50 ms | p90 ms | p95 ms | p99 ms | p99.9 ms | max ms | errors | timeouts | "
          "p50 | p95 | p99 |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["open"]:
        L.append(f"| {r['targetRate']:.0f} | {r['achievedRate']:.0f} | {r['p50']:.2f} | {r['p90']:.2f} | "
                 f"{r['p95']:.2f} | {r['p99']:.2f} | {r['p999']:.2f} | {r['max']:.2f} | {r['errors']} | "
                 f"{r['timeouts']} | {mark(r['p50'] < TARGET['p50'])} | {mark(r['p95'] < TARGET['p95'])} | "
                 f"{mark(r['p99'] < TARGET['p99'])} |")
    L.append("")
    return L


def query_report(queries):
    L = ["## Query classes (JDBC, straight to PostgreSQL)", "",
         "| query | class | n | p50 ms | p95 ms | max ms | target | |", "|---|---|---|---|---|---|---|---|"]
    for q in queries:
        L.append(f"| {q['name']} | {q['kind']} | {q['n']} | {q['p50']:.3f} | {q['p95']:.3f} | {q['max']:.3f} | "
                 f"< {q['targetMs']:.0f} ms | {mark(q['met'])} |")
    L.append("")
    return L


def chart(results, search, path):
    # Search modes get panels of their own (closed loop only).
    results = dict(results, **{f"search {m}": {"closed": rs, "open": []} for m, rs in search["load"].items()})
    d = tempfile.mkdtemp(prefix="arches-chart-")
    n = len(results)
    cols = 3
    rows = (n + cols - 1) // cols
    plot = [f"set terminal pngcairo size 1500,{480 * rows} font ',10'", f"set output '{path}'",
            f"set multiplot layout {rows},{cols} title 'Arches: latency against throughput (closed loop: wrk; "
            f"open loop: fixed rate)'", "set logscale y", "set grid", "set key top left",
            "set xlabel 'req/s'", "set ylabel 'latency ms (log)'"]
    for sc, res in results.items():
        for kind in ("closed", "open"):
            with open(f"{d}/{sc}-{kind}.dat", "w") as f:
                for r in sorted(res[kind], key=lambda r: r.get("rps", r.get("achievedRate", 0))):
                    x = r.get("rps", r.get("achievedRate"))
                    f.write(f"{x} {max(r['p50'], 0.01)} {max(r['p99'], 0.01)} {r.get('connections', 0)}\n")
        plot.append(f"set title '{sc}'")
        # Closed-loop points are labelled with their connection count; open-loop ones join up by rate.
        plot.append(f"plot '{d}/{sc}-closed.dat' u 1:2 w p pt 7 t 'closed p50', '' u 1:3 w p pt 9 t 'closed p99', "
                    f"'' u 1:3:4 w labels offset 0,1 notitle, "
                    f"'{d}/{sc}-open.dat' u 1:2 w lp t 'open p50', '' u 1:3 w lp t 'open p99'")
    plot.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(plot), text=True, check=True)
    shutil.rmtree(d, ignore_errors=True)


def search_summary(search, corpus):
    q = search["quality"]
    d = search["drain"]
    st = corpus["settings"]
    recall = "  ".join(f"{n} {r['recall']:.4f}" for n, r in q["orgs"].items())
    ok = all(r["recall"] >= SEARCH_TARGET["recall"] for r in q["orgs"].values())
    lines = [f"search: {corpus['documents']} man pages, {corpus['passages']} passages; {st['index']}, "
             f"ef_search {st['efSearch']}, exact_threshold {st['exactThreshold']}, result cache off",
             f"recall@10 ({q['queries']} queries): {recall}  (target {SEARCH_TARGET['recall']}: "
             f"{'met' if ok else 'MISSED'})",
             f"{'search mode':13s}{'req/s@64':>10s}{'p50@64':>9s}{'p95@64':>9s}{'p99@64':>9s}{'req/s@256':>11s}"
             f"{'p99@256':>9s}{'errors':>8s}  p95<{SEARCH_TARGET['p95']:.0f}ms@64"]
    for mode, rs in search["load"].items():
        a, b = rs[0], rs[-1]
        errs = sum(r["errors"] + r["timeouts"] for r in rs)
        lines.append(f"{mode:13s}{a['rps']:10.0f}{a['p50']:9.1f}{a['p95']:9.1f}{a['p99']:9.1f}"
                     + (f"{b['rps']:11.0f}{b['p99']:9.1f}" if b is not a else f"{'-':>11s}{'-':>9s}")
                     + f"{errs:8d}  {'met' if search_p95_met(a) else 'MISSED'}")
    lines.append(f"drain: {d['documents']} docs ({d['passages']} passages) embedded by the workers in {d['seconds']} s: "
                 f"{d['docsPerSec']} docs/s, {d['passagesPerSec']} passages/s")
    vec = "reused (seeded earlier)" if corpus["reused"] else (
        f"seeded this run ({corpus['computedPassages']} passages embedded by SearchCorpus now, rest from cache)")
    w = q.get("workers") or {}
    lines.append(f"vectors: corpus {vec}; drain documents by the server's workers (agree with the seeding: "
                 f"{w.get('chunkMismatches', '?')} chunk mismatches, lowest cosine {w.get('minCosine', '?')})")
    return lines


def summary(limits, results, search, corpus, queries, hot):
    """The printed summary: each section that ran, with its figures and goals met or missed."""
    nginx_best = nginx_ceiling(limits)
    lines = ["", "=" * 78, f"Arches bench summary ({'QUICK' if QUICK else 'full'}; sections {','.join(ONLY)})"]
    if limits:
        lines.append(f"machine: nginx {nginx_best:.0f} req/s  pgbench -S {limits['pgbench']['tps']:.0f} tps  "
                     f"redis GET {limits['redis']['rps']:.0f}/s")
    hot_lines = hotpath.summary(hot) + (runs.summary(hot["runs"]) if hot.get("runs") else [])
    if hot_lines:
        lines += ["-" * 78] + hot_lines
    if results:
        lines += ["-" * 78, f"{'scenario':13s}{'best req/s':>11s}{'x nginx':>8s}{'p99@64':>9s}{'p99@max':>9s}"
                            f"{'open p50':>10s}{'open p99':>10s}{'errors':>8s}{'hits':>8s}"]
    for sc, res in results.items():
        best = max(res["closed"], key=lambda r: r["rps"])
        o = res["open"][len(res["open"]) // 2]
        errs = sum(r["errors"] + r["timeouts"] for r in res["closed"])
        x_nginx = f"{best['rps'] / nginx_best:8.2f}" if nginx_best else f"{'-':>8s}"
        lines.append(f"{sc:13s}{best['rps']:11.0f}{x_nginx}{res['closed'][0]['p99']:9.1f}"
                     f"{res['closed'][-1]['p99']:9.1f}{o['p50']:10.1f}{o['p99']:10.1f}{errs:8d}{hit(best):>8s}")
    if search:
        lines.append("-" * 78)
        lines += search_summary(search, corpus)
    backlogs = all_backlogs(results, search)
    if backlogs:
        left = sum(b["left"] for b in backlogs)
        lines.append(f"embedding backlog at the start of {len(backlogs)} measurements: "
                     + ("0 every time" if not left else f"NOT ZERO ({left} documents still queued)")
                     + f" ({sum(b['removed'] for b in backlogs)} queued load-test documents removed)")
    if queries:
        missed = [q["name"] for q in queries if not q["met"]]
        lines.append("-" * 78)
        lines.append("query classes: " + ("all within target" if not missed else "MISSED: " + ", ".join(missed)))
    lines.append("=" * 78)
    return "\n".join(lines)


def main():
    hotpath.use(sys.modules[__name__])
    runs.use(sys.modules[__name__])
    ensure_tools()
    jhome = java_home()
    env = dict(os.environ, JAVA_HOME=jhome)
    cp = build(env)
    sh(["scripts/setup-services.sh"])
    shared_buffers = size_postgres()
    ensure_database()
    commit = sh(["git", "rev-parse", "--short", "HEAD"]).strip()
    dirty = sh(["git", "status", "--porcelain", "--untracked-files=no"]).strip()
    meta = {"date": datetime.date.today().isoformat(), "commit": commit + ("-dirty" if dirty else ""),
            "machine": machine(), "sharedBuffers": shared_buffers, "sections": ONLY}
    log(f"sections: {', '.join(ONLY)}")
    results, search, limits, queries, hot = {}, None, None, None, {}
    if set(ONLY) - {"limits", "queries"}:
        log(f"starting server on {BASE} (database {DB}, pool {POOL}; embedding workers off while seeding)")
        srv = [start_server(jhome, workers=0)]  # search_setup restarts it with the workers on
        try:
            meta["seed"] = seed(jhome, cp)
            # The runs alone need no search corpus: its man pages change whenever a package is
            # installed, and a changed corpus is embedded again (minutes of both cores).
            meta["search"] = search_setup(jhome, cp, srv) if set(ONLY) - {"runs", "limits", "queries"} else None
            if meta["search"] is None:
                # Parked here too: 200,000 pending documents made the server's backlog gauge a
                # 143 ms scan every second, beside the runs being measured.
                park_crud_backlog()
            log(f"warming up the server ({WARMUP} s, not measured)")
            warm_up()
            if "ceiling" in ONLY:
                hot["ceiling"] = hotpath.run_ceiling(jhome, cp)
            if "uncached" in ONLY:
                hot["uncached"] = hotpath.run_uncached(jhome, srv)
            # Search before the scenarios and the open loop: their creates leave documents for the workers.
            if "search" in ONLY:
                search = run_search(jhome, cp, srv)
            if "novel" in ONLY:
                hot["novel"] = hotpath.run_novel(jhome, cp, meta["search"]["settings"],
                                                 search["quality"] if search else None)
            if "openloop" in ONLY:
                hot["openloop"] = hotpath.run_openloop(jhome, cp, srv)
            if "scenarios" in ONLY:
                results = run_scenarios(jhome, cp)
            if "runs" in ONLY:
                hot["runs"] = runs.run(jhome, srv[0].pid)
        finally:
            stop_server(srv[0])
    if "limits" in ONLY:
        log("machine limits: nginx, pgbench -S, redis-benchmark")
        limits = {"nginx": nginx_limit(), "pgbench": pgbench_limit(), "redis": redis_limit()}
    if "queries" in ONLY:
        log("query classes")
        queries = query_classes(jhome, cp)
    os.makedirs("bench/results", exist_ok=True)
    part = "" if ONLY == SECTIONS else "-" + "+".join(ONLY)
    stem = f"bench/results/{meta['date']}-{meta['commit']}{part}{'-quick' if QUICK else ''}"
    if results or search:
        chart(results, search or {"load": {}}, stem + ".png")
    with open(stem + ".md", "w") as f:
        f.write(report(meta, limits, results, search, queries, hot, stem + ".png"))
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, "limits": limits, "results": results, "search": search, "queries": queries,
                   "hotPath": hot}, f, indent=1, default=str)
    print(summary(limits, results, search, meta.get("search"), queries, hot))
    print(f"report: {stem}.md" + (f"  chart: {stem}.png" if results or search else ""))


if __name__ == "__main__":
    main()

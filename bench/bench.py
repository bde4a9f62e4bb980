#!/usr/bin/env python3
"""Arches performance harness: `make bench` (or `make bench QUICK=1`).

Starts the platform with production settings on its own database, seeds (or reuses) a realistic
data set, drives it with wrk (closed loop, rising connections) and the project's open-loop
generator (fixed arrival rates, latency from the due time), reads server-side figures from
/metrics, measures the machine's own limits (nginx static, pgbench -S, redis-benchmark GET),
times the guide's query classes against PostgreSQL, and writes bench/results/<date>-<commit>.md
plus a PNG chart. Standard library only.
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)

QUICK = os.environ.get("QUICK", "") not in ("", "0")
PORT = int(os.environ.get("ARCHES_BENCH_PORT", "18080"))
NGINX_PORT = PORT + 1
DB = os.environ.get("ARCHES_BENCH_DB", "arches_bench")
# Measured on this 2-core machine (closed loop, 256 connections): pool 4 and 8 served mixed load at
# ~2,700 req/s, 16 at 2,500 and 48 at 1,600; PostgreSQL thrashes with more backends than cores can run.
POOL = os.environ.get("ARCHES_BENCH_POOL", "8")
HOST = "127.0.0.1"
BASE = f"http://{HOST}:{PORT}"
SECRET = "bench-secret-bench-secret-bench-secret-0123"
TARGETS = os.path.join(ROOT, "target", "bench")
JVM_FLAGS = ["-XX:+UseParallelGC", "-Xms2g", "-Xmx4g", "--enable-native-access=ALL-UNNAMED"]

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


def ensure_database():
    if psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{DB}'") != "1":
        log(f"creating database {DB}")
        psql("postgres", f'CREATE DATABASE "{DB}" OWNER arches')
    psql(DB, "CREATE EXTENSION IF NOT EXISTS vector")


def start_server(jhome):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("ARCHES_") and not k.startswith("ARCHES_BENCH_"):
            del env[k]
    env.update({
        "ARCHES_SERVER_PORT": str(PORT), "ARCHES_SERVER_HOST": HOST,
        "ARCHES_DATABASE_URL": f"jdbc:postgresql://{HOST}:5432/{DB}",
        "ARCHES_DATABASE_POOL_MAX_CONNECTIONS": POOL, "ARCHES_DATABASE_POOL_MIN_CONNECTIONS": POOL,
        "ARCHES_AUTH_TOKEN_SECRET": SECRET,
        "ARCHES_LOG_ACCESS": "false",
        # Thousands of requests a second from 5,000 users would hit the production limit of
        # 100 per minute at once; the bench measures the platform, not the limiter.
        "ARCHES_RATE_LIMIT_MAX_REQUESTS": "1000000000",
        "ARCHES_RATE_LIMIT_ENABLED": os.environ.get("ARCHES_BENCH_RATE_LIMIT", "true"),
    })
    logf = open("target/bench-server.log", "w")
    proc = subprocess.Popen([f"{jhome}/bin/java"] + JVM_FLAGS + ["-jar", "target/arches.jar"], env=env,
                            stdout=logf, stderr=subprocess.STDOUT, preexec_fn=raise_fd_limit)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE}/ready", timeout=2) as r:
                if r.status == 200:
                    return proc
        except Exception:
            pass
        if proc.poll() is not None:
            raise SystemExit("server exited; see target/bench-server.log")
        time.sleep(0.5)
    raise SystemExit("server did not become ready")


def post_json(path, body):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def seed(jhome, cp):
    email = "bench-template@bench.arches.test"
    status = post_json("/api/v1/auth/register", {"email": email, "name": "Template", "password": "bench-password"})
    if status not in (201, 409):
        raise SystemExit(f"could not register the template user: {status}")
    hash_ = psql(DB, f"SELECT password_hash FROM users WHERE email = '{email}'", user="arches")
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

def wrk(url, connections, seconds, script_args=None, script="bench/lua/scenario.lua"):
    threads = 2
    cmd = ["wrk", "-t", str(threads), "-c", str(max(connections, threads)), "-d", f"{seconds}s", "--timeout", "10s",
           "--latency", "-s", script, url]
    if script_args:
        cmd += ["--"] + script_args
    out = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         preexec_fn=raise_fd_limit).stdout
    m = re.search(r"BENCHJSON (\{.*\})", out)
    if not m:
        raise SystemExit("wrk failed:\n" + out)
    r = json.loads(m.group(1))
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
            before = scrape()
            r = wrk(BASE, c, DURATION, [sc, TARGETS])
            r.update(server_figures(before, scrape()))
            r["connections"] = c
            closed.append(r)
            log(f"{sc:12s} closed c={c:5d}: {r['rps']:8.0f} req/s  p50 {r['p50']:7.2f} ms  p99 {r['p99']:8.2f} ms"
                f"  errors {r['errors']} timeouts {r['timeouts']}  pool wait {r['poolWaitMeanMs']} ms  cache hits {hit(r)}")
        best = max(r["rps"] for r in closed)
        opened = []
        for f in OPEN_FRACTIONS:
            rate = max(1, int(best * f))
            r = open_loop(jhome, cp, sc, rate)
            opened.append(r)
            log(f"{sc:12s} open   {rate:6d}/s: achieved {r['achievedRate']:8.0f}  p50 {r['p50']:7.2f} ms"
                f"  p99 {r['p99']:8.2f} ms  p99.9 {r['p999']:8.2f} ms  errors {r['errors']}")
        results[sc] = {"closed": closed, "open": opened}
    return results


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


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB"


def report(meta, limits, results, queries, png):
    nginx_best = max(r["rps"] for r in limits["nginx"].values())
    L = [f"# Arches benchmark {meta['date']} ({meta['commit']})", "",
         f"- Machine: {meta['machine']}; load generators share it with the server (figures are conservative).",
         f"- Mode: {'QUICK' if QUICK else 'full'}; closed loop {DURATION} s per level with wrk (2 threads), "
         f"open loop {OPEN_DURATION} s per rate with `ai.arches.bench.OpenLoop` (512 connections, latency from due time).",
         f"- Server: `{' '.join(JVM_FLAGS)}`, pool {POOL} connections behind the fair gate, access log off, "
         f"{WARMUP} s of unmeasured warm-up load first, rate limiting "
         f"{'on (limit raised out of reach; the check still runs)' if os.environ.get('ARCHES_BENCH_RATE_LIMIT', 'true') == 'true' else 'off'}.",
         f"- Data: {meta['seed']['counts']} ({'reused' if meta['seed']['reused'] else 'seeded'} in "
         f"{meta['seed']['seconds']} s). Background work during measurement: none (no embedding worker exists yet).",
         "", "## Machine limits", "",
         "| what | figure |", "|---|---|"]
    for c, r in limits["nginx"].items():
        L.append(f"| nginx static 700 B JSON, {c} connections | {r['rps']:.0f} req/s, p99 {r['p99']:.2f} ms |")
    L.append(f"| pgbench -S (16 clients, prepared) | {limits['pgbench']['tps']:.0f} tps, "
             f"{limits['pgbench']['latencyMs']:.2f} ms avg |")
    L.append(f"| redis-benchmark GET (64 clients) | {limits['redis']['rps']:.0f} req/s |")
    L += ["", f"Targets: p50 < {TARGET['p50']:.0f} ms, p95 < {TARGET['p95']:.0f} ms, p99 < {TARGET['p99']:.0f} ms, "
          f"{TARGET['rps']} req/s, {TARGET['users']} concurrent connections served without errors.", ""]
    for sc, res in results.items():
        L += [f"## {sc}", "", "Closed loop (wrk; its percentiles understate tails under saturation):", "",
              "| conns | req/s | × nginx | p50 ms | p90 ms | p95 ms | p99 ms | p99.9 ms | errors | timeouts | "
              "pool wait ms | cache hits | top DB statements (mean ms) | p50 | p95 | p99 |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["closed"]:
            dbq = ", ".join(f"{k} {v}" for k, v in r["dbQueries"].items())
            L.append(f"| {r['connections']} | {r['rps']:.0f} | {r['rps'] / nginx_best:.2f} | {r['p50']:.2f} | "
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
    L += ["## Query classes (JDBC, straight to PostgreSQL)", "",
          "| query | class | n | p50 ms | p95 ms | max ms | target | |", "|---|---|---|---|---|---|---|---|"]
    for q in queries:
        L.append(f"| {q['name']} | {q['kind']} | {q['n']} | {q['p50']:.3f} | {q['p95']:.3f} | {q['max']:.3f} | "
                 f"< {q['targetMs']:.0f} ms | {mark(q['met'])} |")
    L += ["", f"![latency against throughput]({os.path.basename(png)})", ""]
    return "\n".join(L)


def chart(results, path):
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


def summary(limits, results, queries):
    nginx_best = max(r["rps"] for r in limits["nginx"].values())
    lines = ["", "=" * 78, f"Arches bench summary ({'QUICK' if QUICK else 'full'})  nginx ceiling {nginx_best:.0f} req/s"
             f"  pgbench -S {limits['pgbench']['tps']:.0f} tps  redis GET {limits['redis']['rps']:.0f}/s", "-" * 78,
             f"{'scenario':13s}{'best req/s':>11s}{'x nginx':>8s}{'p99@64':>9s}{'p99@max':>9s}"
             f"{'open p50':>10s}{'open p99':>10s}{'errors':>8s}{'hits':>8s}"]
    for sc, res in results.items():
        best = max(res["closed"], key=lambda r: r["rps"])
        o = res["open"][len(res["open"]) // 2]
        errs = sum(r["errors"] + r["timeouts"] for r in res["closed"])
        lines.append(f"{sc:13s}{best['rps']:11.0f}{best['rps'] / nginx_best:8.2f}{res['closed'][0]['p99']:9.1f}"
                     f"{res['closed'][-1]['p99']:9.1f}{o['p50']:10.1f}{o['p99']:10.1f}{errs:8d}{hit(best):>8s}")
    missed = [q["name"] for q in queries if not q["met"]]
    lines.append("-" * 78)
    lines.append("query classes: " + ("all within target" if not missed else "MISSED: " + ", ".join(missed)))
    lines.append("=" * 78)
    return "\n".join(lines)


def main():
    ensure_tools()
    jhome = java_home()
    env = dict(os.environ, JAVA_HOME=jhome)
    cp = build(env)
    sh(["scripts/setup-services.sh"])
    ensure_database()
    commit = sh(["git", "rev-parse", "--short", "HEAD"]).strip()
    dirty = sh(["git", "status", "--porcelain", "--untracked-files=no"]).strip()
    meta = {"date": datetime.date.today().isoformat(), "commit": commit + ("-dirty" if dirty else ""),
            "machine": machine()}
    log(f"starting server on {BASE} (database {DB}, pool {POOL})")
    server = start_server(jhome)
    try:
        meta["seed"] = seed(jhome, cp)
        log(f"warming up the server ({WARMUP} s, not measured)")
        warm_up()
        results = run_scenarios(jhome, cp)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    log("machine limits: nginx, pgbench -S, redis-benchmark")
    limits = {"nginx": nginx_limit(), "pgbench": pgbench_limit(), "redis": redis_limit()}
    log("query classes")
    queries = query_classes(jhome, cp)
    os.makedirs("bench/results", exist_ok=True)
    stem = f"bench/results/{meta['date']}-{meta['commit']}{'-quick' if QUICK else ''}"
    chart(results, stem + ".png")
    with open(stem + ".md", "w") as f:
        f.write(report(meta, limits, results, queries, stem + ".png"))
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, "limits": limits, "results": results, "queries": queries}, f, indent=1, default=str)
    print(summary(limits, results, queries))
    print(f"report: {stem}.md  chart: {stem}.png")


if __name__ == "__main__":
    main()

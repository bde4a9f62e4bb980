"""The workflow-run section of the bench (issue "Workflow runs"), run by bench.py:

- throughput: one-step runs started through the API by wrk (64 connections, rotating over
              ORGS organizations so their concurrency limits are not the bound), then drained;
              sustained runs/s = runs finished / (last finish - first start).
- latency:    one-step runs started at a fixed 200/s (open loop, paced senders); enqueue-to-start
              = from the run's creation (stamped before its insert) to its step's thread starting, from
              the server's histogram, p50/p95/p99; the recorded started_at - created_at beside it.
- fan-out:    a 10-node DAG (start, 8 parallel steps, join) run one at a time; end-to-end p50/p99.
- recovery:   a second node is started beside the platform, both take 2 s steps, the second is
              killed with SIGKILL mid-step; time until the other node finished its steps again.

Runs live in the bench database like everything else; the runs of earlier measurements stay as
history (vacuumed and analyzed before each one) and each measurement counts only the runs it
created, so the figures never mix.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request

B = None  # bench.py, set by use()

GOAL = {"throughput": 1000, "p50": 5.0, "p99": 50.0}
ORGS = 24
LATENCY_RATE = 200
# Also in QUICK runs: 3 s measured a JIT still warming (one QUICK run: 388 runs/s; the same code later 600+).
SECONDS = 8
# jstat -compiler over 8 s rounds of starts, from a fresh server: 591, 1,141, 1,310 and 1,387
# starts/s, with C2 still spending 9.5 s of compiler-thread time in the fourth round.
WARM_SECONDS = 20
# Then more rounds of starts until the JIT is quiet: after those 20 s, CPU profiles of the measured
# 8 s still put 42-52% of the JVM's CPU under C2Compiler::compile_method (async-profiler, two QUICK
# runs), so the figure moved with how far compilation had got (773 and 1,039 runs/s).
WARM_ROUND_SECONDS = 5
WARM_ROUNDS_MAX = 8
# C2 time per round (jstat -compiler, seconds of compiler time) below which the JIT counts as quiet.
WARM_QUIET_COMPILE_S = 0.25
FANOUT_RUNS = 30
RECOVERY_LEASE = "5s"
# More than the platform's 64 workers take at once, so the second node holds steps when it dies.
RECOVERY_RUNS = 96
STEP_MS = 2000


def use(bench):
    global B
    B = bench


def met(ok):
    return "met" if ok else "MISSED"


def post(path, token, body):
    req = urllib.request.Request(B.BASE + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def tool(i, name, config):
    return {"id": i, "type": "tool", "tool": name, "config": config}


def setup():
    """One member per organization (from the CRUD targets) and, in each organization, a one-step
    workflow, a 10-node fan-out/fan-in workflow and a 2-second one."""
    seen, creds = set(), []
    with open(f"{B.TARGETS}/writers.tsv") as f:
        for line in f:
            org, token = line.rstrip("\n").split("\t")
            if org not in seen:
                seen.add(org)
                creds.append((org, token))
            if len(creds) == ORGS:
                break
    flows = {"one": {"nodes": [tool("echo", "transform", {"value": {"n": "{{input.n}}"}})]},
             "fanout": {"nodes": [tool("start", "transform", {"value": {"n": "{{input.n}}"}})]
                        + [tool(f"b{i}", "transform", {"value": {"branch": i, "n": "{{steps.start.n}}"}}) for i in range(8)]
                        + [tool("join", "transform", {"value": {f"b{i}": f"{{{{steps.b{i}.branch}}}}" for i in range(8)}})],
                        "edges": [{"from": "start", "to": f"b{i}"} for i in range(8)]
                        + [{"from": f"b{i}", "to": "join"} for i in range(8)]},
             "slow": {"nodes": [tool("nap", "delay", {"ms": STEP_MS})]}}
    out = {k: [] for k in flows}
    for org, token in creds:
        for name, definition in flows.items():
            w = post(f"/api/v1/organizations/{org}/workflows", token,
                     {"name": f"bench {name}", "definition": definition})
            out[name].append((token, org, w["id"]))
    path = f"{B.TARGETS}/runs-one.tsv"
    with open(path, "w") as f:
        for token, org, wf in out["one"]:
            f.write(f"{token}\t{org}\t{wf}\n")
    return out, path


# Runs created before this (a PostgreSQL timestamp) are history: each measurement counts only its own.
SINCE = "-infinity"


def clear(label):
    """Starts a measurement on the runs so far as history, and waits (parking the CRUD scenarios'
    leftover documents) until no document is queued for embedding: the embedding workers would take
    both cores from the executor (the first full run measured the runs after the scenarios, with
    4,000 documents queued, at 329 runs/s and an enqueue-to-start p50 of 40 ms, against 693 and 5.5
    in QUICK runs).

    Earlier runs stay, vacuumed and analyzed as autovacuum would keep them in service (this
    machine's PostgreSQL runs with autovacuum off). Deleting them measured a state no deployment
    stays in: a DELETE left 30,000+ dead rows, and tables analyzed while empty (or truncated) gave
    every connection cached plans that scan them whole: foreign-key checks and `id = ANY(...)`
    lookups in seq scans took 12% of all CPU (perf) and held runs to 248/s."""
    global SINCE
    B.psql(B.DB, "VACUUM (ANALYZE) workflow_runs, workflow_steps, workflow_run_events")
    settle = B.settle_backlog(label)
    SINCE = B.psql(B.DB, "SELECT clock_timestamp()")
    return settle


def since(alias=""):
    return f"{alias}created_at >= '{SINCE}'"


def wait_idle(deadline_s=180):
    end = time.time() + deadline_s
    while time.time() < end:
        # Every unfinished run has a step running or pending with nothing to wait for (due, or in
        # its backoff): counted on the steps' partial indexes. The runs by status scanned the whole
        # history, 27 ms every 0.2 s of a drain being measured.
        left = int(B.psql(B.DB, "SELECT (SELECT count(*) FROM workflow_steps WHERE status = 'pending' AND waiting = 0)"
                                " + (SELECT count(*) FROM workflow_steps WHERE status = 'running')"))
        if left == 0:
            return True
        time.sleep(0.2)
    return False


def pct(sql_expr, where):
    row = B.psql(B.DB, f"SELECT count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY {sql_expr}), "
                       f"percentile_disc(0.95) WITHIN GROUP (ORDER BY {sql_expr}), "
                       f"percentile_disc(0.99) WITHIN GROUP (ORDER BY {sql_expr}), max({sql_expr}) {where}")
    n, p50, p95, p99, mx = (row.split("|") + ["", "", "", ""])[:5]
    f = lambda v: round(float(v), 2) if v else None
    return {"count": int(n or 0), "p50": f(p50), "p95": f(p95), "p99": f(p99), "max": f(mx)}


MS = "extract(epoch FROM ({} - {})) * 1000"


def run_throughput(path):
    settle = clear("runs throughput")
    B.quiesce()
    r = B.wrk(B.BASE, 64, max(SECONDS, B.DURATION), [path], script="bench/lua/runs.lua")
    drained = wait_idle()
    row = B.psql(B.DB, "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*), "
                       f"extract(epoch FROM max(finished_at) - min(created_at)) FROM workflow_runs WHERE {since()}")
    ok, total, span = row.split("|")
    ok, total, span = int(ok), int(total), float(span or 0)
    out = {"accepted": r.get("accepted", 0), "limited": r.get("limited", 0), "startRps": r["rps"],
           "p50": r["p50"], "p99": r["p99"], "errors": r["errors"] - r.get("limited", 0), "succeeded": ok,
           "runs": total, "spanS": round(span, 2), "drained": drained,
           "sustained": round(ok / span, 1) if span else 0.0, "backlogBefore": settle}
    out["met"] = drained and ok == total and out["sustained"] >= GOAL["throughput"]
    B.log(f"runs: {total} one-step runs started by wrk c=64 ({r['rps']:.0f} POST/s, {out['limited']} x 429), "
          f"{ok} succeeded in {span:.1f} s: {out['sustained']} runs/s sustained "
          f"(goal >= {GOAL['throughput']}: {met(out['met'])})")
    return out


def run_latency(flows, rate=LATENCY_RATE, seconds=None, quiet=False):
    """Paced senders (open loop: each start is due at its time whatever the last one did)."""
    seconds = seconds or max(SECONDS, B.DURATION)
    settle = clear("runs latency")
    B.quiesce()
    targets = flows["one"]
    senders = 4
    period = senders / rate
    t0 = time.time() + 0.2
    failures = []

    def send(k):
        import http.client
        conn = http.client.HTTPConnection(B.HOST, B.PORT, timeout=30)
        n = 0
        while True:
            due = t0 + k * (1 / rate) + n * period
            if due > t0 + seconds:
                break
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            token, org, wf = targets[(k + n * senders) % len(targets)]
            try:
                conn.request("POST", f"/api/v1/organizations/{org}/workflows/{wf}/runs", body='{"input":{"n":1}}',
                             headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 202:
                    failures.append(resp.status)
            except OSError as e:
                failures.append(str(e))
                conn = http.client.HTTPConnection(B.HOST, B.PORT, timeout=30)
            n += 1

    threads = [threading.Thread(target=send, args=(k,)) for k in range(senders)]
    before = B.scrape()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drained = wait_idle()
    launched = histogram(before, B.scrape(), "workflow_enqueue_to_start_seconds")
    # The recorded start (the step's started_at): for steps a start claims in its own transaction
    # this is the start's own time stamp, so it says nothing about waiting; the launch figure does.
    lat = pct(MS.format("s.started_at", "r.created_at"),
              f"FROM workflow_runs r JOIN workflow_steps s ON s.run_id = r.id WHERE s.status = 'succeeded' AND {since('r.')}")
    achieved = lat["count"] / seconds
    out = {"rate": rate, "seconds": seconds, "achieved": round(achieved, 1), "failures": len(failures),
           "drained": drained, "backlogBefore": settle, "recorded": lat, "count": lat["count"], **launched}
    out["met"] = (drained and not failures and launched["p50"] is not None and launched["p50"] < GOAL["p50"]
                  and launched["p99"] < GOAL["p99"])
    if not quiet:
        B.log(f"runs: enqueue-to-start at {rate}/s for {seconds} s: {lat['count']} runs, step thread started "
              f"p50 {launched['p50']} ms, p95 {launched['p95']} ms, p99 {launched['p99']} ms "
              f"(recorded started_at p50 {lat['p50']} p99 {lat['p99']} ms), failures {len(failures)} "
              f"(goal p50 < {GOAL['p50']:.0f}, p99 < {GOAL['p99']:.0f} ms: {met(out['met'])})")
    return out


def histogram(before, after, name):
    """p50/p95/p99 in ms of a Prometheus histogram's observations between two scrapes, by linear
    interpolation inside the bucket (Micrometer's buckets are ~10-30% apart below 20 ms)."""
    buckets = []
    for (n, labels), v in after.items():
        if n == name + "_bucket":
            le = re.search(r'le="([^"]+)"', labels).group(1)
            buckets.append((float("inf") if le == "+Inf" else float(le), v - before.get((n, labels), 0.0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    out = {"observed": int(total)}
    for q, key in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        if not total:
            out[key] = None
            continue
        lo, below = 0.0, 0.0
        for le, cum in buckets:
            if cum >= q * total:
                hi = le if le != float("inf") else lo
                share = (q * total - below) / (cum - below) if cum > below else 1.0
                out[key] = round((lo + (hi - lo) * share) * 1000, 2)
                break
            lo, below = le, cum
    return out


def run_fanout(flows, runs=FANOUT_RUNS, quiet=False):
    settle = clear("runs fan-out")
    B.quiesce()
    token, org, wf = flows["fanout"][0]
    for _ in range(runs):
        run = post(f"/api/v1/organizations/{org}/workflows/{wf}/runs", token, {"input": {"n": 1}})
        end = time.time() + 30
        while time.time() < end:
            s = B.psql(B.DB, f"SELECT status FROM workflow_runs WHERE id = '{run['id']}'")
            if s in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.002)
    e2e = pct(MS.format("finished_at", "created_at"), f"FROM workflow_runs WHERE status = 'succeeded' AND {since()}")
    failed = int(B.psql(B.DB, f"SELECT count(*) FROM workflow_runs WHERE status <> 'succeeded' AND {since()}"))
    out = {"runs": runs, "failed": failed, "backlogBefore": settle, **e2e}
    if not quiet:
        B.log(f"runs: 10-node fan-out/fan-in one at a time: end-to-end p50 {e2e['p50']} ms, p95 {e2e['p95']} ms, "
              f"p99 {e2e['p99']} ms ({failed} not succeeded)")
    return out


def run_recovery(jhome, flows):
    """A second node beside the platform (lease RECOVERY_LEASE), SIGKILLed while both run 2 s steps."""
    settle = clear("runs recovery")
    B.quiesce()
    port = B.PORT + 3
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("ARCHES_") and not k.startswith("ARCHES_BENCH_"):
            del env[k]
    env.update({"ARCHES_SERVER_PORT": str(port), "ARCHES_SERVER_HOST": B.HOST, "ARCHES_ADMIN_PORT": "0",
                "ARCHES_DATABASE_URL": f"jdbc:postgresql://{B.HOST}:5432/{B.DB}",
                "ARCHES_DATABASE_POOL_MAX_CONNECTIONS": B.POOL, "ARCHES_DATABASE_POOL_MIN_CONNECTIONS": "2",
                "ARCHES_AUTH_TOKEN_SECRET": B.SECRET, "ARCHES_LOG_ACCESS": "false", "ARCHES_EMBEDDING_WORKERS": "0",
                "ARCHES_WORKFLOWS_LEASE": RECOVERY_LEASE, "ARCHES_RATE_LIMIT_MAX_REQUESTS": "1000000000"})
    logf = open("target/bench-node2.log", "w")
    node = subprocess.Popen([f"{jhome}/bin/java"] + B.JVM_FLAGS + ["-jar", "target/arches.jar"], env=env,
                            stdout=logf, stderr=subprocess.STDOUT, preexec_fn=B.raise_fd_limit)
    try:
        B.await_ok(node, f"http://{B.HOST}:{port}/ready", 120, "second node", "target/bench-node2.log")
        for i in range(RECOVERY_RUNS):
            token, org, wf = flows["slow"][i % len(flows["slow"])]
            post(f"/api/v1/organizations/{org}/workflows/{wf}/runs", token, {"input": {}})
        # Both nodes claim; wait until the second holds steps, then kill it mid-step.
        end = time.time() + 30
        on_node2 = 0
        while time.time() < end and on_node2 == 0:
            on_node2 = int(B.psql(B.DB, "SELECT count(*) FROM workflow_steps WHERE status = 'running' AND "
                                        "lease_until < now() + interval '10 seconds'"))
            time.sleep(0.05)
        time.sleep(0.5)
        killed_at = time.time()
        os.kill(node.pid, signal.SIGKILL)
        node.wait()
    finally:
        if node.poll() is None:
            node.kill()
    drained = wait_idle(120)
    lost = B.psql(B.DB, "SELECT count(DISTINCT run_id) FROM workflow_run_events "
                        f"WHERE type = 'step' AND data->>'error' = 'its node stopped; run again' AND {since()}")
    ok = int(B.psql(B.DB, f"SELECT count(*) FROM workflow_runs WHERE status = 'succeeded' AND {since()}"))
    # The re-run itself takes STEP_MS; the rest is noticing the dead node and queueing its steps again.
    rerun_last = B.psql(B.DB, "SELECT extract(epoch FROM max(r.finished_at)) FROM workflow_runs r WHERE r.id IN "
                              "(SELECT run_id FROM workflow_run_events WHERE type = 'step' AND "
                              f"data->>'error' = 'its node stopped; run again' AND {since()})")
    recovery = round(float(rerun_last) - killed_at - STEP_MS / 1000, 2) if rerun_last else None
    out = {"runs": RECOVERY_RUNS, "succeeded": ok, "rerun": int(lost or 0), "lease": RECOVERY_LEASE,
           "recoveryS": recovery, "drained": drained, "backlogBefore": settle}
    B.log(f"runs: second node killed mid-step: {out['rerun']} runs had a step re-run elsewhere; all {ok}/"
          f"{RECOVERY_RUNS} succeeded; recovery {recovery} s after the kill (lease {RECOVERY_LEASE}, plus the "
          f"{STEP_MS} ms step run again)")
    return out


def compile_seconds(jhome, pid):
    """The server JVM's total JIT compile time so far (jstat -compiler's Time column), or None."""
    try:
        out = subprocess.run([f"{jhome}/bin/jstat", "-compiler", str(pid)], capture_output=True, text=True,
                             timeout=20).stdout.split("\n")
        return float(out[1].split()[3])
    except (OSError, IndexError, ValueError, subprocess.SubprocessError):
        return None


def warm(path, flows, jhome, pid):
    """Unmeasured starts first: a CPU profile of a QUICK run (go tool pprof on the admin
    listener's /debug/pprof/profile) put 38-46% of the JVM's CPU in the JIT compiler: the bench
    was measuring the run path being compiled, not run. Rounds follow until a round's compile
    time falls below WARM_QUIET_COMPILE_S (at most WARM_ROUNDS_MAX)."""
    clear("runs warm-up")
    B.log(f"runs: warming up the run path ({WARM_SECONDS} s of starts and a paced burst, not measured)")
    B.wrk(B.BASE, 64, WARM_SECONDS, [path], script="bench/lua/runs.lua")
    wait_idle()
    rounds, last = [], compile_seconds(jhome, pid)
    for _ in range(WARM_ROUNDS_MAX if last is not None else 0):
        B.wrk(B.BASE, 64, WARM_ROUND_SECONDS, [path], script="bench/lua/runs.lua")
        wait_idle()
        now = compile_seconds(jhome, pid)
        if now is None:
            break
        rounds.append(round(now - last, 2))
        last = now
        if rounds[-1] < WARM_QUIET_COMPILE_S:
            break
    B.log(f"runs: JIT compile seconds in each further {WARM_ROUND_SECONDS} s round of starts: {rounds} "
          f"(quiet below {WARM_QUIET_COMPILE_S})")
    run_latency(flows, seconds=3, quiet=True)
    run_fanout(flows, runs=10, quiet=True)
    return rounds


def run(jhome, pid):
    flows, path = setup()
    out = {"orgs": ORGS}
    out["warmCompileRounds"] = warm(path, flows, jhome, pid)
    out["throughput"] = run_throughput(path)
    out["latency"] = run_latency(flows)
    out["fanout"] = run_fanout(flows)
    out["recovery"] = run_recovery(jhome, flows)
    B.psql(B.DB, "DELETE FROM workflow_runs")
    return out


def report(r):
    t, l, f, k = r["throughput"], r["latency"], r["fanout"], r["recovery"]
    return ["## Workflow runs", "",
            f"One-step runs (a `transform` step) started through the API by wrk -c64 over {r['orgs']} organizations "
            f"(`workflows.max_running_per_org` 8 each, 64 workers), then drained; enqueue-to-start from the server's "
            f"histogram `workflow_enqueue_to_start_seconds` (the run's creation, stamped before its insert, to its "
            f"step's thread starting), with the recorded `started_at - created_at` beside it; a 10-node fan-out/fan-in run one at a time; "
            f"a second node killed with SIGKILL mid-step. Each measurement counts only its own runs; earlier ones stay "
            f"as history, vacuumed and analyzed first (this PostgreSQL runs with autovacuum off). The warm-up went on "
            f"in {WARM_ROUND_SECONDS} s rounds until the JIT was quiet: compile seconds per round "
            f"{r.get('warmCompileRounds')}.", "",
            "| measure | figure | goal | |", "|---|---|---|---|",
            f"| one-step runs sustained | **{t['sustained']} runs/s** ({t['succeeded']} runs in {t['spanS']} s; "
            f"{t['startRps']:.0f} starts/s, {t['limited']} × 429) | ≥ {GOAL['throughput']} | {B.mark(t['met'])} |",
            f"| enqueue-to-start at {l['rate']}/s ({l['count']} runs) | p50 {l['p50']} ms, p95 {l['p95']} ms, "
            f"p99 {l['p99']} ms (recorded: p50 {l['recorded']['p50']}, p99 {l['recorded']['p99']} ms) | p50 < {GOAL['p50']:.0f}, p99 < {GOAL['p99']:.0f} ms | "
            f"{B.mark(l['met'])} |",
            f"| 10-node fan-out/fan-in, end to end ({f['runs']} runs) | p50 {f['p50']} ms, p95 {f['p95']} ms, "
            f"p99 {f['p99']} ms | | |",
            f"| recovery after SIGKILL of a node mid-step | {k['recoveryS']} s ({k['rerun']} runs re-ran a step, "
            f"{k['succeeded']}/{k['runs']} succeeded; lease {k['lease']}) | ≈ lease + reap period | |", ""]


def summary(r):
    t, l, f, k = r["throughput"], r["latency"], r["fanout"], r["recovery"]
    return [f"runs: one-step {t['sustained']} runs/s sustained (goal {GOAL['throughput']}: {met(t['met'])}); "
            f"enqueue-to-start @{l['rate']}/s p50 {l['p50']} p99 {l['p99']} ms ({met(l['met'])})",
            f"  10-node fan-out p50 {f['p50']} ms p99 {f['p99']} ms; node killed: recovered in {k['recoveryS']} s "
            f"(lease {k['lease']}), {k['succeeded']}/{k['runs']} succeeded"]

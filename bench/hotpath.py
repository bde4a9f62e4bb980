"""The hot-path sections of the bench (issue "Hot path"), run by bench.py:

- ceiling:  a bare Helidon SE JSON hello (`ai.arches.bench.HelloServer`, the platform's JVM flags)
            measured with wrk -t2 -c256 beside the platform; then the platform's GET /health and a
            cached authenticated read of one document, by JWT and by API key, judged against it.
- uncached: single-row authenticated reads with Redis off, uniform over 200,000 documents so the
            in-process content cache misses, against `pgbench -S -M prepared` with 16 clients run
            right after.
- openloop: the mixed 80/15/5 workload from 5,000 connections at rising offered rates; the
            highest rate kept under p99 100 ms and 500 ms, GC pauses of the platform per step.
- novel:    search with never-seen query texts (neither the result cache nor the query-vector
            cache can answer), then the same texts again with their vectors cached; semantic and
            hybrid, small and large organization, 8 and 64 users; and `SearchDirect`, the same
            pgvector statement straight over JDBC.

The helpers (wrk, start_server, scrape, ...) are bench.py's, handed over with use(); this module
keeps no state of its own between sections.
"""
import json
import os
import random
import re
import subprocess
import urllib.error
import urllib.request

B = None  # bench.py, set by use()

GOAL = {"health": 0.9, "cachedRead": 0.8, "cachedReadP99": 20.0, "uncached": 0.45, "uncachedP99": 50.0,
        "openRate": 10000, "openP99": 100.0, "openP99Loose": 500.0, "novelRatio": 0.5, "novelHybridP95": 50.0,
        "direct": 0.8, "recall": 0.95}
HOT_CONNECTIONS = 256
OPEN_CONNECTIONS = 5000
NOVEL_USERS = [8, 64]
NOVEL_MODES = ["semantic", "hybrid"]
NOVEL_ORGS = ["corpus-small", "corpus-large"]
# English stop words (PostgreSQL's english.stop, without 'or', which websearch_to_tsquery reads as
# OR): appended to a real query they make a text never seen before, and a new vector, while the
# keyword side of hybrid search parses to the same tsquery as the real query.
STOP_WORDS = ("a about above after again against all am an and any are as at be because been before being below "
              "between both but by can did do does doing down during each few for from further had has have having "
              "he her here hers herself him himself his how i if in into is it its itself just me more most my "
              "myself no nor not now of off on once only other our ours ourselves out over own same she should so "
              "some such than that the their theirs them themselves then there these they this those through to too "
              "under until up very was we were what when where which while who whom why will with you your yours "
              "yourself yourselves").split()


def use(bench):
    global B
    B = bench


def met(ok):
    return "met" if ok else "MISSED"


def clean(r):
    return r["requests"] > 0 and r["errors"] + r["timeouts"] == 0


# ---- ceiling ----------------------------------------------------------------------------------

def hello_port():
    return B.PORT + 2


def start_hello(jhome, cp):
    url = f"http://{B.HOST}:{hello_port()}/hello"
    logf = open("target/bench-hello.log", "w")
    proc = subprocess.Popen([f"{jhome}/bin/java"] + B.JVM_FLAGS + ["-cp", cp, "ai.arches.bench.HelloServer",
                                                                    str(hello_port())],
                            stdout=logf, stderr=subprocess.STDOUT, preexec_fn=B.raise_fd_limit)
    B.await_ok(proc, url, 60, "HelloServer", "target/bench-hello.log")
    return proc, url


def read_credentials():
    """One document read by a member's access token and one by the organization's API key, from
    the read targets (a JWT has three dot-separated parts; an API key has none)."""
    jwt = key = None
    with open(f"{B.TARGETS}/read-uniform.tsv") as f:
        for line in f:
            cred, path = line.rstrip("\n").split("\t")
            if cred.count(".") == 2:
                jwt = jwt or (cred, path)
            else:
                key = key or (cred, path)
            if jwt and key:
                return jwt, key
    raise SystemExit("read-uniform.tsv lacks a JWT or an API key line")


def probe(url, headers):
    """One request first: the row counts only if it answers 200 (wrk counts 3xx as success)."""
    req = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers or []))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, len(r.read())
    except urllib.error.HTTPError as e:
        return e.code, 0


def hot_wrk(url, headers=None, label=""):
    status, size = probe(url, headers)
    B.wrk(url, HOT_CONNECTIONS, max(1, B.WARMUP // 4), script="bench/lua/plain.lua", headers=headers)
    r = B.wrk(url, HOT_CONNECTIONS, B.DURATION, script="bench/lua/plain.lua", headers=headers)
    r.update(connections=HOT_CONNECTIONS, probeStatus=status, bodyBytes=size)
    if status != 200:
        r["errors"] += 1  # a route that does not answer 200 meets no goal
    B.log(f"{label:22s} c={HOT_CONNECTIONS}: {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:7.2f} ms  "
          f"errors {r['errors']} timeouts {r['timeouts']}  (probe: HTTP {status}, {size} B body)")
    return r


def run_ceiling(jhome, cp):
    """The Helidon hello first (the platform idles meanwhile), then the platform's hot rows."""
    proc, url = start_hello(jhome, cp)
    try:
        hello = hot_wrk(url, label="ceiling: Helidon hello")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    ceiling = hello["rps"]
    (jwt, jwt_path), (key, key_path) = read_credentials()
    rows = {
        "health": hot_wrk(B.BASE + "/health", label="GET /health"),
        "readJwt": hot_wrk(B.BASE + jwt_path, ["Authorization: Bearer " + jwt], "cached read, JWT"),
        "readApiKey": hot_wrk(B.BASE + key_path, ["Authorization: Bearer " + key], "cached read, API key"),
    }
    for name, r in rows.items():
        r["ratio"] = round(r["rps"] / ceiling, 3)
        if name == "health":
            r["goal"] = f">= {GOAL['health']}x ceiling"
            r["met"] = clean(r) and r["ratio"] >= GOAL["health"]
        else:
            r["goal"] = f">= {GOAL['cachedRead']}x ceiling, p99 < {GOAL['cachedReadP99']:.0f} ms"
            r["met"] = clean(r) and r["ratio"] >= GOAL["cachedRead"] and r["p99"] < GOAL["cachedReadP99"]
    return {"hello": hello, "rows": rows}


# ---- uncached single-row reads ---------------------------------------------------------------

UNCACHED_ENV = {"ARCHES_REDIS_URL": ""}


def uncached_targets():
    """Reads spread uniformly over every document of the CRUD organizations (200,000; the search
    corpus's long pages left out), one credential per organization: with Redis off, the in-process
    content cache (5 s) holds a few percent of them, while each organization's session or key,
    membership and organization stay cached, so a read costs one single-row statement."""
    rows = B.psql(B.DB, "SELECT c.organization_id || ' ' || c.id FROM content c JOIN organizations o "
                        f"ON o.id = c.organization_id WHERE o.slug NOT IN {B.CORPUS_SLUGS} "
                        "AND c.title NOT LIKE 'Load test note %' ORDER BY random()", user="arches").split("\n")
    creds = {}
    with open(f"{B.TARGETS}/orgs.tsv") as f:
        for line in f:
            o, token = line.rstrip("\n").split("\t")
            creds.setdefault(o, token)
    d = f"{B.TARGETS}/uncached"
    os.makedirs(d, exist_ok=True)
    n = 0
    with open(f"{d}/read-uniform.tsv", "w") as f:
        for row in rows:
            org, id_ = row.split()
            if org in creds:
                f.write(f"{creds[org]}\t/api/v1/organizations/{org}/content/{id_}\n")
                n += 1
    return d, n


def content_hits(before, after):
    hits = B.delta(before, after, "cache_gets_total", 'cache="content",level="l1",result="hit"')
    hits += B.delta(before, after, "cache_gets_total", 'cache="content",level="l2",result="hit"')
    loads = B.delta(before, after, "cache_loads_total", 'cache="content"')
    return round(hits / (hits + loads), 4) if hits + loads else None


def run_uncached(jhome, srv):
    d, docs = uncached_targets()
    B.log(f"restarting the server with Redis off; reads over {docs} documents")
    B.stop_server(srv[0])
    srv[0] = B.start_server(jhome, append=True, extra_env=UNCACHED_ENV)
    try:
        B.wrk(B.BASE, HOT_CONNECTIONS, B.WARMUP, ["read-uniform", d])
        B.settle_backlog("uncached reads")
        before = B.scrape()
        r = B.wrk(B.BASE, HOT_CONNECTIONS, B.DURATION, ["read-uniform", d])
        after = B.scrape()
        r.update(B.server_figures(before, after))
        r["contentHitRatio"] = content_hits(before, after)
        r["connections"] = HOT_CONNECTIONS
        r["documents"] = docs
    finally:
        B.log("restarting the server as before (caches on)")
        B.stop_server(srv[0])
        srv[0] = B.start_server(jhome, append=True)
        B.warm_up()
    pg = B.pgbench_limit()
    r["pgbench"] = pg
    r["ratio"] = round(r["rps"] / pg["tps"], 3)
    r["met"] = clean(r) and r["ratio"] >= GOAL["uncached"] and r["p99"] < GOAL["uncachedP99"]
    B.log(f"uncached read c={HOT_CONNECTIONS}: {r['rps']:.0f} req/s p99 {r['p99']:.2f} ms (content cache hits "
          f"{r['contentHitRatio']}); pgbench -S {pg['tps']:.0f} tps; ratio {r['ratio']} {met(r['met'])}")
    return r


# ---- open loop at 5,000 connections ----------------------------------------------------------

PAUSE = re.compile(r"\bPause\b.*?([\d.]+)ms\s*$")


def gc_pauses(path, offset):
    """GC pauses the platform logged (-Xlog:gc) after byte offset: count, total and max ms."""
    pauses = []
    with open(path, errors="replace") as f:
        f.seek(offset)
        for line in f:
            m = PAUSE.search(line)
            if m:
                pauses.append(float(m.group(1)))
    return {"count": len(pauses), "totalMs": round(sum(pauses), 2), "maxMs": round(max(pauses, default=0.0), 2)}


def run_openloop(jhome, cp, srv):
    rates = [1000, 4000] if B.QUICK else [1000, 2000, 4000, 6000, 8000, 10000]
    steps = []
    for rate in rates:
        settle = B.settle_backlog(f"open loop mixed {rate}/s")
        log_path = srv[0].gc_log
        offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        r = B.open_loop(jhome, cp, "mixed", rate, connections=OPEN_CONNECTIONS)
        r["gc"] = gc_pauses(log_path, offset)
        r["backlogBefore"] = settle
        steps.append(r)
        B.log(f"open loop mixed {rate:6d}/s from {OPEN_CONNECTIONS} conns: achieved {r['achievedRate']:7.0f}  "
              f"p50 {r['p50']:7.2f}  p99 {r['p99']:8.2f} ms  errors {r['errors']} timeouts {r['timeouts']}  "
              f"GC {r['gc']['count']} pauses, {r['gc']['totalMs']} ms total, max {r['gc']['maxMs']} ms")

    def best(limit):
        ok = [s["targetRate"] for s in steps if s["p99"] < limit and s["errors"] + s["timeouts"] == 0]
        return max(ok, default=0)

    out = {"connections": OPEN_CONNECTIONS, "steps": steps, "bestUnder100": best(GOAL["openP99"]),
           "bestUnder500": best(GOAL["openP99Loose"])}
    out["met"] = out["bestUnder100"] >= GOAL["openRate"]
    return out


# ---- search with never-seen texts ------------------------------------------------------------

class Texts:
    """Never-seen query texts: a real query of the set plus four stop words, each text once per run
    (and, with 6e10 combinations, practically never in an earlier run's cached vectors)."""

    def __init__(self):
        with open(f"{B.TARGETS}/search-queries.txt") as f:
            self.base = [q.strip() for q in f if q.strip()]
        self.seen = set(self.base)
        self.rnd = random.Random()

    def next(self):
        while True:
            t = self.rnd.choice(self.base) + " " + " ".join(self.rnd.choice(STOP_WORDS) for _ in range(4))
            if t not in self.seen:
                self.seen.add(t)
                return t


def novel_file(texts, org, key, n, path):
    with open(path, "w") as f:
        for _ in range(n):
            f.write(f"{key}\t{org}\t{json.dumps(texts.next())}\n")


def novel_cell(texts, orgs, name, mode, users):
    """One cell: never-seen texts (each thread takes its own block of the file, once), then the
    very texts each thread sent, again, now with their vectors cached."""
    o = orgs[name]
    path = f"{B.TARGETS}/novel-{name}-{mode}-{users}.tsv"
    # Enough texts that no thread wraps: a thread sends at most a few hundred searches a second.
    novel_file(texts, o["id"], o["viewer"], 2 * 600 * (B.DURATION + 1), path)
    B.quiesce()
    before = B.scrape()
    novel = B.wrk(B.BASE, users, B.DURATION, [mode, path, "novel"], script="bench/lua/novel.lua")
    novel.update(B.server_figures(before, B.scrape()))
    counts = [str(c) for c in novel["sent"]]
    B.quiesce()
    before = B.scrape()
    cached = B.wrk(B.BASE, users, B.DURATION, [mode, path, "replay"] + counts, script="bench/lua/novel.lua")
    cached.update(B.server_figures(before, B.scrape()))
    ratio = round(novel["rps"] / cached["rps"], 3) if cached["rps"] else 0.0
    cell = {"org": name, "mode": mode, "users": users, "novel": novel, "cached": cached, "ratio": ratio,
            "met": clean(novel) and ratio >= GOAL["novelRatio"]}
    if mode == "semantic" and users == int(B.POOL):
        direct_texts(path, novel["sent"], f"{B.TARGETS}/search-direct-{name}.txt")
    if mode == "hybrid" and users == 8 and name == "corpus-small":
        cell["p95Met"] = clean(novel) and novel["p95"] < GOAL["novelHybridP95"]
    B.log(f"novel {name:12s} {mode:8s} {users:2d} users: {novel['rps']:6.0f} req/s p50 {novel['p50']:6.1f} "
          f"p95 {novel['p95']:6.1f} p99 {novel['p99']:6.1f} ms (degraded {novel['degraded']}, errors "
          f"{novel['errors']}, wrapped {novel['wrapped']}) | vectors cached {cached['rps']:6.0f} req/s p95 "
          f"{cached['p95']:6.1f} ms | ratio {ratio} {met(cell['met'])}")
    return cell


def direct_texts(path, sent, out, most=300):
    """The texts this cell's replay sent (each thread's first SENT lines of its half), at most
    `most` of them: SearchDirect embeds and queries exactly these."""
    with open(path) as f:
        lines = [json.loads(line.rstrip("\n").split("\t")[2]) for line in f]
    half = len(lines) // 2
    texts = [lines[t * half + i] for t in range(2) for i in range(min(sent[t], most // 2))]
    with open(out, "w") as f:
        f.write("\n".join(texts) + "\n")


def max_scan_tuples():
    with open("arches.yaml") as f:
        m = re.search(r"^\s*max_scan_tuples:\s*(\d+)", f.read(), re.M)
    return int(m.group(1)) if m else 20000


def search_direct(jhome, cp, settings):
    threads = int(B.POOL)
    out = subprocess.run([f"{jhome}/bin/java", "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                          "ai.arches.bench.SearchDirect", f"jdbc:postgresql://{B.HOST}:5432/{B.DB}", "arches",
                          B.TARGETS, ",".join(NOVEL_ORGS), str(settings["efSearch"]), str(max_scan_tuples()),
                          str(settings["exactThreshold"]), str(threads), str(B.DURATION), str(max(1, B.WARMUP // 6))],
                         text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if out.returncode != 0:
        raise SystemExit("SearchDirect failed:\n" + out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_novel(jhome, cp, settings, quality=None):
    orgs = B.search_orgs()
    texts = Texts()
    B.log(f"novel search: {len(texts.base)} base queries + 4 stop words each; result cache off")
    B.wrk(B.BASE, 8, max(1, B.WARMUP // 4), ["hybrid", B.TARGETS], script="bench/lua/search.lua")
    for name in NOVEL_ORGS:
        stale = f"{B.TARGETS}/search-direct-{name}.txt"
        if os.path.exists(stale):
            os.remove(stale)
    cells = [novel_cell(texts, orgs, name, mode, users)
             for name in NOVEL_ORGS for mode in NOVEL_MODES for users in NOVEL_USERS]
    B.quiesce()
    direct = search_direct(jhome, cp, settings)
    for name, d in direct["orgs"].items():
        platform = next(c for c in cells if c["org"] == name and c["mode"] == "semantic" and c["users"] == int(B.POOL)
                        ) if int(B.POOL) in NOVEL_USERS else None
        d["platformRps"] = platform["cached"]["rps"] if platform else None
        d["ratio"] = round(d["platformRps"] / d["rps"], 3) if platform and d["rps"] else None
        d["recall"] = quality["orgs"][name]["recall"] if quality and name in quality.get("orgs", {}) else None
        d["met"] = (d["ratio"] is not None and d["ratio"] >= GOAL["direct"]
                    and (d["recall"] is None or d["recall"] >= GOAL["recall"]))
        B.log(f"SearchDirect {name:12s} {direct['threads']} conns ({'exact' if d['exact'] else 'index'}): "
              f"{d['rps']:.0f} q/s p50 {d['p50']} p95 {d['p95']} p99 {d['p99']} ms; platform semantic (vectors "
              f"cached, {B.POOL} users) {d['platformRps']} req/s, ratio {d['ratio']}, recall@10 "
              f"{d['recall'] if d['recall'] is not None else 'not measured (search section not run)'} {met(d['met'])}")
    return {"cells": cells, "direct": direct}


# ---- report and summary ------------------------------------------------------------------------

def rate(v):
    return f"{v}" if v else "none of the steps"


def fmt(v, spec=".0f"):
    return "-" if v is None else format(v, spec)


def report(hot):
    L = []
    c = hot.get("ceiling")
    if c:
        h = c["hello"]
        L += ["## Hot path: framework ceiling and cheapest routes", "",
              f"Ceiling: `ai.arches.bench.HelloServer`, a bare Helidon SE server answering a Jackson JSON hello "
              f"({h['bodyBytes']} B), "
              f"same JVM flags as the platform, wrk -t2 -c{HOT_CONNECTIONS} for {h['durationUs'] / 1e6:.0f} s after a "
              f"short unmeasured warm-up: **{h['rps']:.0f} req/s**, p50 {h['p50']:.2f} ms, p99 {h['p99']:.2f} ms.", "",
              "| route | body B | req/s | × ceiling | p50 ms | p99 ms | errors | goal | |",
              "|---|---|---|---|---|---|---|---|---|"]
        names = {"health": "GET /health", "readJwt": "cached read, one document, JWT",
                 "readApiKey": "cached read, one document, API key"}
        for k, r in c["rows"].items():
            L.append(f"| {names[k]} | {r['bodyBytes']} | {r['rps']:.0f} | {r['ratio']:.2f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['errors'] + r['timeouts']} | {r['goal']} | {B.mark(r['met'])} |")
        L.append("")
    u = hot.get("uncached")
    if u:
        L += ["## Hot path: uncached single-row read", "",
              f"Redis off (in-process cache as configured); reads uniform over {u['documents']} documents, one "
              f"credential per organization (sessions, keys and memberships stay cached); wrk -t2 "
              f"-c{HOT_CONNECTIONS}. Reference: `pgbench -S -M prepared`, 16 clients, right after.", "",
              "| what | req/s | p50 ms | p99 ms | content cache hits | errors | × pgbench | goal | |",
              "|---|---|---|---|---|---|---|---|---|",
              f"| uncached read | {u['rps']:.0f} | {u['p50']:.2f} | {u['p99']:.2f} | "
              f"{fmt(u['contentHitRatio'] and u['contentHitRatio'] * 100, '.1f')}% | {u['errors'] + u['timeouts']} | "
              f"{u['ratio']:.2f} | ≥ {GOAL['uncached']}×, p99 < {GOAL['uncachedP99']:.0f} ms | {B.mark(u['met'])} |",
              f"| pgbench -S (16 clients) | {u['pgbench']['tps']:.0f} tps | | avg {u['pgbench']['latencyMs']:.2f} | "
              f"| | | | |", ""]
    o = hot.get("openloop")
    if o:
        L += [f"## Hot path: open loop, mixed 80/15/5 from {o['connections']} connections", "",
              f"Highest offered rate with p99 < 100 ms and no errors: **{rate(o['bestUnder100'])} req/s** (goal "
              f"{GOAL['openRate']}: {B.mark(o['met'])}); with p99 < 500 ms: **{rate(o['bestUnder500'])} req/s**. "
              f"GC pauses from the platform's -Xlog:gc, per step (its warm-up and the drain after it included). "
              f"Every connection is open before the first request is due; latency from the due time.", "",
              "| offered req/s | achieved | p50 ms | p95 ms | p99 ms | max ms | errors | timeouts | GC pauses | "
              "GC total ms | GC max ms | p99 < 100 |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in o["steps"]:
            g = s["gc"]
            L.append(f"| {s['targetRate']:.0f} | {s['achievedRate']:.0f} | {s['p50']:.2f} | {s['p95']:.2f} | "
                     f"{s['p99']:.2f} | {s['max']:.2f} | {s['errors']} | {s['timeouts']} | {g['count']} | "
                     f"{g['totalMs']} | {g['maxMs']} | {B.mark(s['p99'] < 100 and not s['errors'] + s['timeouts'])} |")
        L.append("")
    n = hot.get("novel")
    if n:
        L += ["## Hot path: search with never-seen query texts", "",
              "Every request a text never sent before (a query of the set plus four English stop words: a new "
              "vector, the same keywords), result cache off, so the query is embedded on the request path. "
              "Then each thread sends the very texts it sent, again: their vectors are cached. wrk -t2, "
              "organization's viewer API key. `degraded`: hybrid answered keyword-only (vector not in time).", "",
              "| organization | mode | users | novel req/s | p50 ms | p95 ms | p99 ms | errors | degraded | "
              "cached req/s | cached p95 ms | novel ÷ cached | ≥ 0.5 | hybrid p95 < 50 ms |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for c in n["cells"]:
            a, b = c["novel"], c["cached"]
            L.append(f"| {c['org']} | {c['mode']} | {c['users']} | {a['rps']:.0f} | {a['p50']:.2f} | {a['p95']:.2f} | "
                     f"{a['p99']:.2f} | {a['errors'] + a['timeouts']} | {a['degraded']} | {b['rps']:.0f} | "
                     f"{b['p95']:.2f} | {c['ratio']:.2f} | {B.mark(c['met'])} | "
                     f"{B.mark(c['p95Met']) if 'p95Met' in c else ''} |")
        d = n["direct"]
        L += ["", f"`SearchDirect`: the platform's pgvector statement (k {d['k']}; exact form up to exact_threshold "
                  f"passages, else the index, with ef_search {d['efSearch']}, iterative scan and max_scan_tuples set "
                  f"per connection as the platform's pool sets them; one statement per search, as `SearchStore.nearest`) over JDBC with {d['threads']} connections; against "
                  f"platform semantic search with vectors cached at {d['threads']} users (the novel cells' replay), "
                  f"with the texts that replay sent (up to 300) embedded by the same model. Recall@10 from the search "
                  f"section's quality run (`-`: that section did not run).", "",
              "| organization | path | texts | direct q/s | p50 ms | p95 ms | p99 ms | platform req/s | × direct | "
              "recall@10 | goal | |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in d["orgs"].items():
            L.append(f"| {name} | {'exact' if r['exact'] else 'index'} | {r['queries']} ({r['queryFile']}) | "
                     f"{r['rps']:.0f} | {r['p50']} | {r['p95']} | "
                     f"{r['p99']} | {fmt(r['platformRps'])} | {fmt(r['ratio'], '.2f')} | {fmt(r['recall'], '.4f')} | "
                     f"≥ {GOAL['direct']}×, recall ≥ {GOAL['recall']} | {B.mark(r['met'])} |")
        L.append("")
    return L


def summary(hot):
    lines = []
    c = hot.get("ceiling")
    if c:
        lines.append(f"hot path (wrk c={HOT_CONNECTIONS}): Helidon hello ceiling {c['hello']['rps']:.0f} req/s "
                     f"p99 {c['hello']['p99']:.1f} ms")
        for k, r in c["rows"].items():
            lines.append(f"  {k:12s}{r['rps']:9.0f} req/s  {r['ratio']:5.2f}x  p99 {r['p99']:6.1f} ms  "
                         f"goal {r['goal']}: {met(r['met'])}")
    u = hot.get("uncached")
    if u:
        lines.append(f"  {'uncached':12s}{u['rps']:9.0f} req/s  {u['ratio']:5.2f}x pgbench -S ({u['pgbench']['tps']:.0f} "
                     f"tps)  p99 {u['p99']:6.1f} ms  goal >= {GOAL['uncached']}x, p99 < 50 ms: {met(u['met'])}")
    o = hot.get("openloop")
    if o:
        steps = "  ".join(f"{s['targetRate']:.0f}:p99 {s['p99']:.0f}ms/GC {s['gc']['count']}x max {s['gc']['maxMs']:.0f}ms"
                          for s in o["steps"])
        lines.append(f"open loop mixed, {o['connections']} conns: best p99<100ms {rate(o['bestUnder100'])}, "
                     f"p99<500ms {rate(o['bestUnder500'])}  (req/s; goal {GOAL['openRate']}: {met(o['met'])})")
        lines.append(f"  {steps}")
    n = hot.get("novel")
    if n:
        lines.append(f"{'novel search':28s}{'req/s':>7s}{'p50':>7s}{'p95':>7s}{'p99':>7s}{'cached':>8s}{'ratio':>7s}"
                     f"  goal >= 0.5x")
        for cell in n["cells"]:
            a = cell["novel"]
            extra = f"  hybrid p95<50ms: {met(cell['p95Met'])}" if "p95Met" in cell else ""
            lines.append(f"  {cell['org'] + ' ' + cell['mode'] + ' @' + str(cell['users']):26s}{a['rps']:7.0f}"
                         f"{a['p50']:7.1f}{a['p95']:7.1f}{a['p99']:7.1f}{cell['cached']['rps']:8.0f}"
                         f"{cell['ratio']:7.2f}  {met(cell['met'])}{extra}")
        for name, r in n["direct"]["orgs"].items():
            lines.append(f"  SearchDirect {name:13s}{r['rps']:7.0f} q/s p95 {r['p95']} ms; platform {fmt(r['platformRps'])} "
                         f"= {fmt(r['ratio'], '.2f')}x, recall@10 {fmt(r['recall'], '.4f')}  (goal >= 0.8x): "
                         f"{met(r['met'])}")
    return lines

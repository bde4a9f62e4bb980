#!/usr/bin/env python3
"""Continuous profiling's overhead: `make bench-profiling` (or `make bench-profiling QUICK=1`).

Starts the platform from target/arches.jar as bench.py does (its database, JVM flags and
settings; embedding workers off) with `profiling.continuous` off, then on, then on, then off,
and so on (ARCHES_BENCH_PROFILING_PAIRS pairs, default 3; each pair swaps the order, so drift on
this shared machine falls on both modes alike), one server start per run. Each run drives the
same closed-loop wrk load on a cheap authenticated GET, a cached read of one document by JWT
(256 connections, as bench.py's ceiling row), warms up, then measures: req/s, p99, and the JVM's
CPU seconds per 1,000 requests (utime + stime from /proc/<pid>/stat around the measured load).
With continuous profiling on, the rolling recording is downloaded afterwards (it must answer 200;
off, 404), so a run that did not profile cannot count as one that did.

Reports the median of each mode, the median of the per-pair ratios and every run, in
bench/results/<date>-<commit>-profiling[-quick].{md,json}. Holds /tmp/arches-bench.lock for
the runs (or uses the caller's, when run under flock). Standard library only.
"""
import datetime
import json
import os
import statistics
import subprocess
import sys
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # bench/__pycache__ holds tracked files
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (start_server, stop_server, wrk, machine: the harness's helpers)
import cluster  # noqa: E402  (BenchLock, call, owner, CLK_TCK)
import hotpath  # noqa: E402  (HOT_CONNECTIONS, probe)

QUICK = bench.QUICK
PAIRS = int(os.environ.get("ARCHES_BENCH_PROFILING_PAIRS", "3"))
CONNECTIONS = hotpath.HOT_CONNECTIONS
WARM_SECONDS = 5 if QUICK else 30
MEASURE_SECONDS = 10 if QUICK else 30
ORG = "profiling-bench"
EMAIL = "profiling@bench.arches.test"
PASSWORD = "profiling-bench-password"
ADMIN = f"http://{bench.HOST}:{bench.ADMIN_PORT}"


def log(msg):
    bench.log(f"profiling: {msg}")


def document():
    """A token and one document's path: the user, organization and document are made once through
    the API and reused by later runs; the token is fresh (access tokens live 15 minutes)."""
    token, _ = cluster.owner(EMAIL, "Profiling", ORG, "Profiling bench", password=PASSWORD, port=bench.PORT)
    base = f"/api/v1/organizations/{ORG}/content"
    status, page = cluster.call("GET", base + "?limit=1", token=token, port=bench.PORT)
    if status == 200 and page["data"]:
        doc = page["data"][0]["id"]
    else:
        status, made = cluster.call("POST", base, {"title": "Profiling overhead", "body": "A document read by the "
                                    "profiling bench, cached after the first read.", "tags": ["bench"]}, token,
                                    port=bench.PORT)
        if status != 201:
            raise SystemExit(f"document: HTTP {status} {made}")
        doc = made["id"]
    return token, f"{base}/{doc}"


def cpu_seconds(pid):
    """utime + stime of the process, all its threads (fields 14 and 15 of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / cluster.CLK_TCK


def continuous_profile():
    """The rolling recording's status and size (200 with continuous profiling on, 404 off)."""
    try:
        with urllib.request.urlopen(f"{ADMIN}/debug/pprof/continuous", timeout=60) as r:
            return r.status, len(r.read())
    except urllib.error.HTTPError as e:
        return e.code, 0


def one_run(jhome, on, index):
    proc = bench.start_server(jhome, workers=0, append=index > 0,
                              extra_env={"ARCHES_PROFILING_CONTINUOUS": "true" if on else "false"})
    try:
        token, path = document()
        url, headers = bench.BASE + path, ["Authorization: Bearer " + token]
        status, size = hotpath.probe(url, headers)
        if status != 200:
            raise SystemExit(f"GET {path}: HTTP {status}")
        bench.wrk(url, CONNECTIONS, WARM_SECONDS, script="bench/lua/plain.lua", headers=headers)
        cpu = cpu_seconds(proc.pid)
        r = bench.wrk(url, CONNECTIONS, MEASURE_SECONDS, script="bench/lua/plain.lua", headers=headers)
        cpu = cpu_seconds(proc.pid) - cpu
        profile_status, profile_bytes = continuous_profile()
    finally:
        bench.stop_server(proc)
    if profile_status != (200 if on else 404):
        raise SystemExit(f"GET /debug/pprof/continuous answered {profile_status} with profiling.continuous {on}")
    run = {"continuous": on, "rps": round(r["rps"], 1), "p50": r["p50"], "p99": r["p99"], "requests": r["requests"],
           "errors": r["errors"], "timeouts": r["timeouts"], "cpuSeconds": round(cpu, 2),
           "cpuSecondsPer1000": round(cpu / r["requests"] * 1000, 4), "bodyBytes": size,
           "continuousProfileBytes": profile_bytes}
    log(f"run {index + 1}, continuous {'on ' if on else 'off'}: {r['rps']:8.0f} req/s  p99 {r['p99']:7.2f} ms  "
        f"{run['cpuSecondsPer1000']:.3f} CPU s per 1,000 requests  errors {r['errors']} timeouts {r['timeouts']}")
    return run


def summarize(runs):
    med = statistics.median
    modes = {}
    for name, on in (("off", False), ("on", True)):
        rs = [r for r in runs if r["continuous"] == on]
        modes[name] = {k: med(r[k] for r in rs) for k in ("rps", "p99", "cpuSecondsPer1000")}
        modes[name]["rpsRange"] = [min(r["rps"] for r in rs), max(r["rps"] for r in rs)]
    # Each pair's on / off: drift across the pairs cancels within a pair.
    pairs = [(runs[i], runs[i + 1]) if not runs[i]["continuous"] else (runs[i + 1], runs[i])
             for i in range(0, len(runs), 2)]
    ratios = {k: round(med(on[k] / off[k] for off, on in pairs), 4) for k in ("rps", "p99", "cpuSecondsPer1000")}
    return {"modes": modes, "pairRatios": ratios}


def report(meta, runs, s):
    off, on, q = s["modes"]["off"], s["modes"]["on"], s["pairRatios"]
    L = [f"# Continuous profiling overhead, {meta['date']} ({meta['commit']})", "",
         f"{meta['machine']}. {PAIRS} pairs of server runs, continuous profiling off and on (order swapped each "
         f"pair), one server start per run; closed-loop wrk, {CONNECTIONS} connections, a cached read of one "
         f"document by JWT: {WARM_SECONDS} s warm-up, {MEASURE_SECONDS} s measured. CPU: the JVM's utime + stime "
         f"over the measured load. Settings: profiling.window and profiling.interval at their defaults.", "",
         "| continuous profiling | req/s (median) | req/s (range) | p99 ms (median) | JVM CPU s per 1,000 requests |",
         "|---|---|---|---|---|"]
    for name, m in (("off", off), ("on", on)):
        L.append(f"| {name} | {m['rps']:.0f} | {m['rpsRange'][0]:.0f}-{m['rpsRange'][1]:.0f} | {m['p99']:.2f} | "
                 f"{m['cpuSecondsPer1000']:.3f} |")
    L += ["", f"Median of the pairs' on/off ratios: req/s {q['rps']:.3f}, p99 {q['p99']:.3f}, "
              f"CPU per request {q['cpuSecondsPer1000']:.3f}.", "", "## Runs", "",
          "| run | continuous | req/s | p50 ms | p99 ms | CPU s | CPU s / 1,000 req | errors | timeouts | "
          "continuous profile |", "|---|---|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(runs, 1):
        L.append(f"| {i} | {'on' if r['continuous'] else 'off'} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                 f"{r['cpuSeconds']:.1f} | {r['cpuSecondsPer1000']:.3f} | {r['errors']} | {r['timeouts']} | "
                 + (f"{r['continuousProfileBytes']} B" if r["continuous"] else "404") + " |")
    return "\n".join(L) + "\n"


def main():
    if not os.path.exists("target/arches.jar"):
        raise SystemExit("target/arches.jar is missing: make build")
    bench.raise_fd_limit()
    jhome = bench.java_home()
    bench.ensure_database()
    runs = []
    with cluster.BenchLock():
        for pair in range(PAIRS):
            for on in ((False, True) if pair % 2 == 0 else (True, False)):
                runs.append(one_run(jhome, on, len(runs)))
    s = summarize(runs)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], text=True, stdout=subprocess.PIPE).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], text=True,
                           stdout=subprocess.PIPE).stdout.strip()
    meta = {"date": datetime.date.today().isoformat(), "commit": commit + ("-dirty" if dirty else ""),
            "machine": bench.machine(), "mode": "QUICK" if QUICK else "full", "pairs": PAIRS,
            "connections": CONNECTIONS, "warmSeconds": WARM_SECONDS, "measureSeconds": MEASURE_SECONDS,
            "jvmFlags": bench.JVM_FLAGS}
    stem = f"bench/results/{meta['date']}-{meta['commit']}-profiling{'-quick' if QUICK else ''}"
    os.makedirs("bench/results", exist_ok=True)
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, "summary": s, "runs": runs}, f, indent=1)
    with open(stem + ".md", "w") as f:
        f.write(report(meta, runs, s))
    off, on = s["modes"]["off"], s["modes"]["on"]
    print(f"continuous profiling off: {off['rps']:.0f} req/s, p99 {off['p99']:.2f} ms, "
          f"{off['cpuSecondsPer1000']:.3f} CPU s / 1,000 requests")
    print(f"continuous profiling on:  {on['rps']:.0f} req/s, p99 {on['p99']:.2f} ms, "
          f"{on['cpuSecondsPer1000']:.3f} CPU s / 1,000 requests")
    print(f"report: {stem}.md")


if __name__ == "__main__":
    main()

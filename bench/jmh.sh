#!/usr/bin/env bash
# Builds the test classes and runs the JMH microbenchmarks under src/bench/java.
#   bench/jmh.sh                                  the whole ai.arches suite, JSON to target/jmh-result.json
#   bench/jmh.sh CursorBench -f 1 -wi 1 -i 1      any arguments go to JMH instead of the defaults
# A summary table is printed from the JSON result unless the arguments choose their own -rf/-rff.
set -euo pipefail
cd "$(dirname "$0")/.."

JAVA_HOME="$(scripts/java-home.sh)"
export JAVA_HOME

./mvnw -q -B -DskipTests test-compile
./mvnw -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath

# Run from a private copy of the compiled classes: JMH forks a JVM per benchmark and loads the
# generated harness classes late, so a Maven build running meanwhile in this checkout (which
# cleans and rewrites target/) would otherwise make later benchmarks fail with ClassNotFound.
snapshot="$(mktemp -d "${TMPDIR:-/tmp}/arches-jmh.XXXXXX")"
trap 'rm -rf "$snapshot"' EXIT
cp -r target/classes "$snapshot/classes"
cp -r target/test-classes "$snapshot/test-classes"
classpath="$snapshot/test-classes:$snapshot/classes:$(cat target/bench.classpath)"
if ! grep -q ' ai\.arches\.' "$snapshot/test-classes/META-INF/BenchmarkList" 2>/dev/null; then
  echo "jmh.sh: no ai.arches benchmarks in target/test-classes/META-INF/BenchmarkList (annotation processing did not run?)" >&2
  exit 1
fi

json="$snapshot/jmh-result.json"
result=target/jmh-result.json
if [ "$#" -eq 0 ]; then
  args=(-rf json -rff "$json" 'ai\.arches\..*Bench')
else
  args=("$@")
  own_result=false
  for a in "$@"; do
    case "$a" in -rf|-rff|-h|-l|-lp|-lprof|-lrf) own_result=true ;; esac
  done
  if ! $own_result; then
    args+=(-rf json -rff "$json")
  fi
fi

"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$classpath" org.openjdk.jmh.Main "${args[@]}"

if [ -s "$json" ]; then
  mkdir -p target
  cp "$json" "$result"
  echo "JSON result: $result"
  python3 - "$json" <<'PY'
import json, sys

rows = []
for r in json.load(open(sys.argv[1])):
    m = r["primaryMetric"]
    name = r["benchmark"].removeprefix("ai.arches.")
    if r.get("params"):
        name += "(" + ",".join(f"{k}={v}" for k, v in r["params"].items()) + ")"
    err = float(m.get("scoreError", "NaN"))  # JMH writes the string "NaN" after a single iteration
    err = "" if err != err else f"± {err:.3f}"
    p50 = m.get("scorePercentiles", {}).get("50.0") if r["mode"] == "sample" else None
    rows.append((name, r["mode"], f"{float(m['score']):.3f}", err, "" if p50 is None else f"{float(p50):.3f}",
                 m["scoreUnit"]))

head = ("benchmark", "mode", "score", "error", "p50", "unit")
w = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
print()
for i, row in enumerate([head] + rows):
    print("  ".join(c.rjust(w[j]) if j in (2, 3, 4) else c.ljust(w[j]) for j, c in enumerate(row)).rstrip())
    if i == 0:
        print("  ".join("-" * x for x in w))
PY
fi

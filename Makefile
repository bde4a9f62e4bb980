# Arches: `make run` starts the platform, `make test` runs the whole suite. Both prepare the
# machine first (pgvector, database role, Redis); see scripts/setup-services.sh.
SHELL := /bin/bash
JAVA_HOME := $(shell scripts/java-home.sh)
export JAVA_HOME
MVN := ./mvnw -B -q
JAVA_OPTS ?= -XX:+UseParallelGC --enable-native-access=ALL-UNNAMED
SOURCES := $(shell find src/main -type f) pom.xml
# The console, /docs and /graphiql (web/, README "Console, API reference and GraphiQL"): npm builds
# them into target/web, which Maven packs into the jar's web/ folder.
WEB_SOURCES := $(shell find web/src -type f) web/build.mjs web/package.json web/package-lock.json

.PHONY: run test setup build web image advise lint-openapi clean bench bench-profiling jmh cluster cluster-stop bench-cluster cluster-check

# A local token secret (kept in .arches/, never committed) lets sessions survive restarts;
# ARCHES_AUTH_TOKEN_SECRET from the environment wins.
run: setup target/arches.jar
	@mkdir -p .arches && { [ -s .arches/token_secret ] || head -c 32 /dev/urandom | base64 > .arches/token_secret; }
	@echo "Starting Arches on http://localhost:$${ARCHES_SERVER_PORT:-8080} (Ctrl-C stops it)"
	@ARCHES_AUTH_TOKEN_SECRET="$${ARCHES_AUTH_TOKEN_SECRET:-$$(cat .arches/token_secret)}" \
	  exec "$(JAVA_HOME)/bin/java" $(JAVA_OPTS) -jar target/arches.jar

# The web assets are built first (the browser test and the asset tests need them), after the
# setup has installed node, npm and Chromium.
test:
	@scripts/setup-services.sh --test
	@$(MAKE) --no-print-directory web
	ARCHES_TEST_REQUIRE_PROMTOOL=1 ARCHES_TEST_REQUIRE_GO=1 ARCHES_TEST_REQUIRE_NODE=1 ARCHES_TEST_REQUIRE_REPLICA=1 \
	  ARCHES_TEST_REQUIRE_HAPROXY=1 ARCHES_TEST_REQUIRE_WEB=1 ARCHES_TEST_REQUIRE_PG_STAT_STATEMENTS=1 \
	  ./mvnw -B --no-transfer-progress verify
	@$(MAKE) --no-print-directory lint-openapi

setup:
	@scripts/setup-services.sh

build: target/arches.jar

web: target/web/manifest.json

# npm ci again only when the lock changes; the build again when a source does. Hashed, precompressed
# assets and the sizes of each page's JavaScript (web/build.mjs).
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

target/web/manifest.json: web/node_modules/.installed $(WEB_SOURCES)
	cd web && node build.mjs

# Three nodes (8081-8083) behind HAProxy (8000) with a streaming replica (5433) on this machine;
# idempotent. `make cluster-stop` stops all of it. See docs/scaling.md.
cluster: setup target/arches.jar
	@scripts/cluster.sh start

cluster-stop:
	@scripts/cluster.sh stop

# The container image of deploy/Dockerfile (docs/scaling.md, "Kubernetes"): podman where installed, else docker.
image:
	$$(command -v podman || command -v docker) build -f deploy/Dockerfile -t arches:$${TAG:-0.1.0} .

# The cluster bench (bench/cluster.py) on the cluster above, started if needed: the mixed load
# straight to one node, through HAProxy to one node and to three (the balancer's cost, the
# scaling on this machine, the replica's read share), then a node killed, a rolling restart, a
# PostgreSQL restart and a short PostgreSQL outage under load. Writes
# bench/results/<date>-<commit>-cluster[-quick].{md,json}. QUICK=1: shorter runs. Restarts the
# shared PostgreSQL (under /tmp/arches-bench.lock, which it takes itself).
bench-cluster: setup target/arches.jar
	QUICK=$(QUICK) python3 bench/cluster.py

# The pass/fail part of bench-cluster with smaller loads (scripts/cluster-check.sh); exits non-zero
# on a failed check. Not part of `make test`: it kills nodes and restarts PostgreSQL.
cluster-check: setup target/arches.jar
	@scripts/cluster-check.sh

# PostgreSQL settings for this host and NODES nodes of this configuration (default 1), each with
# its reason, beside the live values: the database `make run` would use, no server started.
advise: target/arches.jar
	@"$(JAVA_HOME)/bin/java" -cp target/arches.jar ai.arches.admin.database.Advise $(NODES)

target/arches.jar: $(SOURCES) target/web/manifest.json
	$(MVN) -DskipTests package

# Lints the OpenAPI document with Redocly's recommended rules (errors fail the build).
lint-openapi:
	@if command -v npm >/dev/null; then \
	  cd tools/openapi-lint && npm ci --silent --no-audit --no-fund >/dev/null && \
	  npx --no-install redocly lint --format=stylish ../../src/main/resources/openapi.json; \
	else echo "npm not found: OpenAPI lint skipped"; fi

# The performance harness (bench/bench.py). QUICK=1 took 10.5 minutes on a seeded database (2026-12-03,
# all sections, 2 cores shared with a test run); the first run seeds the database and embeds the
# search corpus, about 5 minutes more. A full run takes longer (the old "about 12 minutes" predates
# the hot-path sections; not re-timed).
# ARCHES_BENCH_ONLY=ceiling,uncached,search,novel,openloop,scenarios,runs,limits,queries (a comma list;
# default all) runs only those sections, e.g. `make bench QUICK=1 ARCHES_BENCH_ONLY=ceiling,novel`.
bench:
	QUICK=$(QUICK) ARCHES_BENCH_ONLY=$(ARCHES_BENCH_ONLY) python3 bench/bench.py

# Continuous profiling's overhead (bench/profiling.py): the platform from target/arches.jar with
# profiling.continuous off and on in turn (3 pairs, ARCHES_BENCH_PROFILING_PAIRS), one server start
# per run, under the same closed-loop wrk load on a cached read by JWT; median req/s, p99 and JVM
# CPU seconds per 1,000 requests of each. Writes bench/results/<date>-<commit>-profiling[-quick].{md,json}.
# About 7 minutes (2026-12-03; QUICK=1, shorter runs: about 2). Takes /tmp/arches-bench.lock itself
# (or uses the caller's flock).
bench-profiling: target/arches.jar
	QUICK=$(QUICK) python3 bench/profiling.py

# JMH microbenchmarks of the hot in-process paths (bench/jmh.sh; pass JMH options in ARGS).
jmh:
	bash bench/jmh.sh $(ARGS)

clean:
	$(MVN) clean

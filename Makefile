# Arches: `make run` starts the platform, `make test` runs the whole suite. Both prepare the
# machine first (pgvector, database role, Redis); see scripts/setup-services.sh.
SHELL := /bin/bash
JAVA_HOME := $(shell scripts/java-home.sh)
export JAVA_HOME
MVN := ./mvnw -B -q
JAVA_OPTS ?= -XX:+UseParallelGC --enable-native-access=ALL-UNNAMED
SOURCES := $(shell find src/main -type f) pom.xml

.PHONY: run test setup build lint-openapi clean

run: setup target/arches.jar
	@echo "Starting Arches on http://localhost:$${ARCHES_SERVER_PORT:-8080} (Ctrl-C stops it)"
	@exec "$(JAVA_HOME)/bin/java" $(JAVA_OPTS) -jar target/arches.jar

test: setup
	$(MVN) verify
	@$(MAKE) --no-print-directory lint-openapi

setup:
	@scripts/setup-services.sh

build: target/arches.jar

target/arches.jar: $(SOURCES)
	$(MVN) -DskipTests package

# Lints the OpenAPI document with Redocly's recommended rules (errors fail the build).
lint-openapi:
	@if command -v npm >/dev/null; then \
	  cd tools/openapi-lint && npm ci --silent --no-audit --no-fund >/dev/null && \
	  npx --no-install redocly lint --format=stylish ../../src/main/resources/openapi.json; \
	else echo "npm not found: OpenAPI lint skipped"; fi

clean:
	$(MVN) clean

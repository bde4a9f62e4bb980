#!/usr/bin/env bash
# Prints a JDK 25 home: $JAVA_HOME if it is 25 or newer, else the newest JDK 25+ under /usr/lib/jvm.
set -euo pipefail
version_of() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}'; }
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(version_of "$JAVA_HOME")" -ge 25 ] 2>/dev/null; then
  echo "$JAVA_HOME"; exit 0
fi
for d in $(ls -d /usr/lib/jvm/* 2>/dev/null | sort -rV); do
  if [ -x "$d/bin/javac" ] && [ "$(version_of "$d")" -ge 25 ] 2>/dev/null; then echo "$d"; exit 0; fi
done
echo "arches: no JDK 25 found (set JAVA_HOME or install one under /usr/lib/jvm)" >&2
exit 1

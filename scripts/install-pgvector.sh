#!/usr/bin/env bash
# Builds pgvector from Debian's source package (trixie deb-src) against the local
# PostgreSQL 15 server headers. Idempotent: does nothing when the extension is installed.
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
if [ ! -x "$PG_CONFIG" ] && [ -x /usr/bin/pg_config ]; then PG_CONFIG=/usr/bin/pg_config; fi
sharedir=$("$PG_CONFIG" --sharedir 2>/dev/null || echo /usr/share/postgresql/15)
if [ -f "$sharedir/extension/vector.control" ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "arches: pgvector missing, building it from Debian's source package" >&2
src=/etc/apt/sources.list.d/arches-trixie-src.sources
if [ ! -f "$src" ]; then
  $SUDO tee "$src" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql-server-dev-15 build-essential dpkg-dev >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  apt-get source -qq pgvector >/dev/null
  dir=$(find . -maxdepth 1 -type d -name 'pgvector-*' | head -1)
  cd "$dir"
  # OPTFLAGS empty: build portable code, not -march=native, so the library runs on any x86-64.
  make -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
  $SUDO make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
)
test -f "$sharedir/extension/vector.control"
echo "arches: pgvector installed into $sharedir/extension" >&2

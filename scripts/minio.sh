#!/usr/bin/env bash
# Installs the MinIO server binary the S3 snapshot tests run against, at the
# exact version DESIGN.md pins, into a cache directory outside the repository
# (never committed), unless it is already there. Prints the binary's path on
# stdout; progress goes to stderr.
#
#   GOFKA_BIN_DIR  where the binary goes (default ${XDG_CACHE_HOME:-$HOME/.cache}/gofka/bin)
#   GO             the go command (default go)
#
# A cold install builds MinIO from source: about 4 minutes and 150 MB.
set -euo pipefail

version="v0.0.0-20260212201848-7aac2a2c5b7c"
bindir="${GOFKA_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gofka/bin}"
go="${GO:-go}"
bin="$bindir/minio"
stamp="$bindir/minio.version"

# The stamp records which version the binary is, so a pin change reinstalls.
if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bindir"
# Test packages may run this at the same time: one installs, the others wait.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$bindir/.minio-install.lock"
  flock 9
  if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
    echo "$bin"
    exit 0
  fi
fi
echo "minio: installing github.com/minio/minio@$version into $bindir (takes a few minutes the first time)" >&2
GOBIN="$bindir" "$go" install "github.com/minio/minio@$version" >&2
echo "$version" >"$stamp"
echo "$bin"

#!/usr/bin/env bash
# Installs the Debian packages the build and tests need when they are missing:
# librocksdb-dev (RocksDB 7.8.3, which grocksdb v1.7.14 binds) and kcat (an
# independent Kafka client the end-to-end tests use) and openssl (the real-Kafka
# tier makes its broker's certificates with it) and protobuf-compiler with
# libprotobuf-dev (protoc and the well-known .proto files it imports: the Protobuf
# serde's test compiles the .proto it prints) and chromium (the headless browser
# the web view's tests drive: runtime/webview, internal/browsertest). Says what
# it does.
set -euo pipefail

# The chromium the web view's tests last ran on (Debian 12, bookworm-security).
# Debian's security archive keeps only the newest build, so when this one is
# gone the newest is installed instead, and the script says so.
CHROMIUM_VERSION=156.0.8078.114-1~deb12u1

need=()
[ -f /usr/include/rocksdb/c.h ] || need+=(librocksdb-dev)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/timestamp.proto ] || need+=(libprotobuf-dev)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0

echo "deps: installing ${need[*]} with apt-get"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
for i in "${!need[@]}"; do
  [ "${need[$i]}" = chromium ] || continue
  if apt-cache madison chromium | grep -qF "| $CHROMIUM_VERSION |"; then
    need[$i]="chromium=$CHROMIUM_VERSION"
  else
    echo "deps: chromium $CHROMIUM_VERSION is no longer in the archive; installing the newest"
  fi
done
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"

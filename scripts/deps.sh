#!/usr/bin/env bash
# Installs the Debian packages the build and tests need when they are missing:
# librocksdb-dev (RocksDB 7.8.3, which grocksdb v1.7.14 binds) and kcat (an
# independent Kafka client the end-to-end tests use) and openssl (the real-Kafka
# tier makes its broker's certificates with it) and protobuf-compiler with
# libprotobuf-dev (protoc and the well-known .proto files it imports: the Protobuf
# serde's test compiles the .proto it prints). Says what it does.
set -euo pipefail

need=()
[ -f /usr/include/rocksdb/c.h ] || need+=(librocksdb-dev)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/timestamp.proto ] || need+=(libprotobuf-dev)
[ ${#need[@]} -eq 0 ] && exit 0

echo "deps: installing ${need[*]} with apt-get"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"

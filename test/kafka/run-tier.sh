#!/usr/bin/env bash
# The real-Kafka test tier: starts a single-node Apache Kafka broker (kafka.sh)
# in a temporary directory, runs the end-to-end tests against it
# (GOFKA_TEST_BROKERS=<its address>), and stops it, also when interrupted.
#
# GOFKA_TEST_BROKERS is the broker's PLAINTEXT listener, which every test uses.
# The tests of TLS and SASL (test/e2e/secured_test.go) also get the secured
# listeners, from the secured.env kafka.sh writes:
#   GOFKA_TEST_SASL_SSL_BROKERS   SASL_SSL listener (TLS + SCRAM-SHA-512)
#   GOFKA_TEST_MTLS_BROKERS       SSL listener with ssl.client.auth=required
#   GOFKA_TEST_KAFKA_CA           the CA certificate (PEM) both listeners' certificates chain to
#   GOFKA_TEST_MTLS_CERT, GOFKA_TEST_MTLS_KEY   a client certificate and key (PEM) the CA signed
#   GOFKA_TEST_SCRAM_USER, GOFKA_TEST_SCRAM_PASSWORD   the SCRAM-SHA-512 user made at format time
#
#   run-tier.sh              make test-kafka: Java, Maven and openssl are required
#   run-tier.sh --optional   make test: without java, mvn or openssl on PATH, print that
#                            the tier is skipped and exit 0
#
# Environment: GO (default go), KAFKA_TIER_PACKAGES (default ./test/e2e/...),
# KAFKA_TIER_RUN (a go test -run pattern, default all), KAFKA_TIER_ARGS (more go
# test flags, e.g. '-v -timeout 90m' for make chaos), plus kafka.sh's. The tests
# inherit the environment (make chaos's GOFKA_CHAOS_* among it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
go=${GO:-go}

missing=()
command -v java >/dev/null 2>&1 || missing+=(java)
command -v mvn >/dev/null 2>&1 || missing+=(mvn)
# kafka.sh makes the secured listeners' certificates with openssl.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${1:-}" = --optional ]; then
    echo "real-Kafka tier skipped: java/mvn/openssl not found (missing: ${missing[*]}; install openjdk-17-jre-headless, maven and openssl to run it)"
    exit 0
  fi
  echo "run-tier.sh: the real-Kafka tier needs ${missing[*]} on PATH (apt-get install openjdk-17-jre-headless maven openssl)" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/gofka-kafka-XXXXXX")
cleanup() {
  "$here/kafka.sh" stop "$dir" || echo "run-tier.sh: could not stop the broker in $dir" >&2
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
"$here/kafka.sh" fetch >/dev/null
t1=$SECONDS
addr=$("$here/kafka.sh" start "$dir")
t2=$SECONDS
echo "real-Kafka tier: broker at $addr (jars ready in $((t1 - t0))s, broker up in $((t2 - t1))s); running the end-to-end tests on it"
[ -f "$dir/secured.env" ] || { echo "run-tier.sh: kafka.sh wrote no $dir/secured.env" >&2; exit 1; }
set -a
# shellcheck source=/dev/null # written by kafka.sh start
. "$dir/secured.env"
set +a
echo "real-Kafka tier: SASL_SSL (SCRAM-SHA-512) at $GOFKA_TEST_SASL_SSL_BROKERS, mutual TLS at $GOFKA_TEST_MTLS_BROKERS"

cd "$root"
args=(test -p 1 -count=1 -timeout 30m)
[ -n "${KAFKA_TIER_RUN:-}" ] && args+=(-run "$KAFKA_TIER_RUN")
# shellcheck disable=SC2206 # a list of flags
[ -n "${KAFKA_TIER_ARGS:-}" ] && args+=(${KAFKA_TIER_ARGS})
rc=0
# shellcheck disable=SC2086 # a list of packages
GOFKA_TEST_BROKERS=$addr "$go" "${args[@]}" ${KAFKA_TIER_PACKAGES:-./test/e2e/...} || rc=$?
t3=$SECONDS
if [ $rc -ne 0 ]; then
  echo "real-Kafka tier: FAILED after $((t3 - t2))s of tests; the broker's log:" >&2
  tail -n 40 "$dir/server.log" >&2 || true
  exit $rc
fi
echo "real-Kafka tier: passed (tests $((t3 - t2))s, total $((t3 - t0))s)"

#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, combined broker and controller) on
# 127.0.0.1, for the real-Kafka test tier.
#
#   kafka.sh fetch          download the broker's jars when they are missing
#   kafka.sh start <dir>    fetch, configure, format and start a broker whose
#                           files are all in <dir>; print its bootstrap address
#                           once it answers Kafka metadata requests
#   kafka.sh stop <dir>     stop the broker started in <dir> (SIGTERM, then
#                           SIGKILL after a grace period) and wait until it exited
#   kafka.sh status <dir>   exit 0 when the broker in <dir> runs and answers
#
# The jars come from Maven Central through Maven (test/kafka/pom.xml pins the
# version) and are copied to ${XDG_CACHE_HOME:-$HOME/.cache}/gofka/kafka-<version>/libs,
# outside the repository; nothing downloaded is committed. In <dir>: server.properties,
# data/ (the log directory), server.log (the broker's output), kafka.pid, and
# bootstrap (the PLAINTEXT address, written once the broker answers).
#
# Besides PLAINTEXT the broker has two secured listeners, for the tests of the
# clients' TLS and SASL (test/kafka/README.md):
#   SASL_SSL  TLS, then SASL SCRAM-SHA-512; the user is created when the storage
#             is formatted (kafka-storage format --add-scram)
#   SSL       mutual TLS: ssl.client.auth=required
# Both present a certificate for 127.0.0.1 and localhost signed by a CA made for
# this broker with openssl; Kafka reads the PEM files directly (no keystore).
# Their files are in <dir>/tls: ca.crt (the CA that clients trust), broker.pem
# (the broker's key and certificate), client.crt and client.key (a certificate
# the SSL listener accepts), scram.password (the SCRAM user's password). Once the
# broker answers, <dir>/secured.env holds the GOFKA_TEST_* variables the
# end-to-end tests read (NAME=value lines, shell-quoted, for `set -a; . file`).
# The controller listener and inter-broker traffic stay PLAINTEXT.
#
# Every command is idempotent: start on a running broker prints its address;
# start on a stopped one restarts it with its data and ports; stop on a stopped
# one does nothing. The readiness check is a Kafka metadata request made with kcat
# (make deps installs it) that must list broker 1 at the advertised address.
#
# Environment: KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m), KAFKA_START_TIMEOUT
# (seconds, default 120), KAFKA_STOP_GRACE (seconds, default 30).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
[ -n "$version" ] || { echo "kafka.sh: no <kafka.version> in $here/pom.xml" >&2; exit 1; }
cache=${XDG_CACHE_HOME:-$HOME/.cache}/gofka/kafka-$version
libs=$cache/libs

say() { echo "kafka.sh: $*" >&2; }
die() { say "$*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not on PATH: $2"; }

# The SCRAM user of the SASL_SSL listener; its password is random, per broker.
scramUser=gofka

# fetch copies kafka_2.13 and its runtime dependencies into $libs once; a
# complete copy has a .complete marker, so an interrupted fetch is redone.
fetch() {
  [ -f "$libs/.complete" ] && return 0
  need mvn "install Maven (apt-get install maven) to download Apache Kafka"
  mkdir -p "$cache"
  # One fetch at a time per cache (two test runs may start together).
  exec 9>"$cache/.lock"
  flock 9
  if [ ! -f "$libs/.complete" ]; then
    local tmp="$cache/libs.tmp.$$" log="$cache/fetch.log" started=$SECONDS
    rm -rf "$tmp"
    say "fetching Apache Kafka $version jars from Maven Central into $libs"
    if ! mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      rm -rf "$tmp"
      die "mvn dependency:copy-dependencies failed (full output in $log)"
    fi
    [ -f "$tmp/kafka_2.13-$version.jar" ] || { rm -rf "$tmp"; die "Maven did not copy kafka_2.13-$version.jar (output in $log)"; }
    touch "$tmp/.complete"
    rm -rf "$libs"
    mv "$tmp" "$libs"
    say "fetched $(find "$libs" -name '*.jar' | wc -l) jars in $((SECONDS - started))s"
  fi
  exec 9>&-
}

# pidOf prints the pid of the broker started in $1 when it is alive.
pidOf() {
  local dir=$1 pid state
  [ -f "$dir/kafka.pid" ] || return 1
  pid=$(cat "$dir/kafka.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  # The pid must still be our java: pids are reused.
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$dir/server.properties" || return 1
  # A zombie (a parent that does not reap) has exited.
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$state" ] && [ "$state" != Z ] || return 1
  echo "$pid"
}

# usedPorts lists the local TCP ports in use (any state), from /proc.
usedPorts() {
  local _ local rest
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r _ local rest; do
    [[ $local == *:* ]] && echo $((16#${local##*:}))
  done | sort -un
}

# freePorts prints $1 distinct ports that nothing uses now, below the ephemeral
# range (so that they cannot be taken by outgoing connections or by ":0" listeners).
freePorts() {
  local n=$1 used p out=()
  used=" $(usedPorts | tr '\n' ' ') "
  while [ ${#out[@]} -lt "$n" ]; do
    p=$((20000 + RANDOM % 12000))
    [[ $used == *" $p "* ]] && continue
    [[ " ${out[*]} " == *" $p "* ]] && continue
    out+=("$p")
  done
  echo "${out[@]}"
}

# secrets makes, once, the files of the secured listeners in $1/tls with openssl:
# a CA (its key is deleted once it has signed), the broker's key and certificate
# (127.0.0.1 and localhost) in one PEM file, a client certificate (CN
# gofka-client), and the SCRAM password. Keys are unencrypted PKCS#8 (EC P-256),
# which Kafka's PEM key store reads without ssl.key.password. Valid for 30 days:
# a stopped broker may be started again later with its files.
secrets() {
  local tls=$1/tls tmp ext
  [ -f "$tls/.complete" ] && return 0
  need openssl "install openssl: the broker's secured listeners need certificates"
  tmp=$1/tls.tmp.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  (
    set -e
    cd "$tmp"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -keyout ca.key -out ca.crt -subj "/O=gofka test/CN=gofka test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    ext=$tmp/leaf.ext
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$ext"
    for name in broker client; do
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$name.key" -out "$name.csr" -subj "/O=gofka test/CN=gofka-$name"
      openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
        -extfile "$ext" -out "$name.crt"
    done
    cat broker.key broker.crt >broker.pem
    rm -f ca.key ca.srl ./*.csr broker.key broker.crt leaf.ext
    chmod 644 ca.crt client.crt
    # A SCRAM password: hex, so that it needs no quoting in --add-scram.
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >scram.password
  ) >"$1/tls.log" 2>&1 || { cat "$1/tls.log" >&2; rm -rf "$tmp"; die "openssl could not make the certificates in $tls"; }
  rm -f "$1/tls.log"
  touch "$tmp/.complete"
  rm -rf "$tls"
  mv "$tmp" "$tls"
}

# configure writes $dir/server.properties for a fresh broker.
configure() {
  local dir=$1 broker controller sasl mtls
  read -r broker controller sasl mtls <<<"$(freePorts 4)"
  cat >"$dir/server.properties" <<EOF
# Written by test/kafka/kafka.sh: a single-node KRaft broker for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$broker,SASL_SSL://127.0.0.1:$sasl,SSL://127.0.0.1:$mtls,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$broker,SASL_SSL://127.0.0.1:$sasl,SSL://127.0.0.1:$mtls
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# One node: every replication factor and ISR is 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Fewer internal partitions than the defaults (50): the same behaviour, less to create.
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
# Topics are created by the tests and the applications, explicitly.
auto.create.topics.enable=false
num.partitions=4
group.initial.rebalance.delay.ms=0
# The log cleaner (compacted changelogs) within a 512 MB heap.
log.cleaner.dedupe.buffer.size=33554432
# The secured listeners (SASL_SSL, SSL): TLS with the certificate of tls/,
# read as PEM, no Java key store.
ssl.keystore.type=PEM
ssl.keystore.location=$dir/tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/tls/ca.crt
# SASL_SSL: SCRAM-SHA-512 only; the user is in the metadata log (--add-scram).
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# SSL: mutual TLS, a client must present a certificate the CA signed.
listener.name.ssl.ssl.client.auth=required
EOF
}

# format writes the storage's metadata with a random cluster id, once.
format() {
  local dir=$1 id
  [ -f "$dir/data/meta.properties" ] && return 0
  # A cluster id is 16 random bytes in URL-safe base64 without padding; Kafka
  # refuses ids that start with '-' (they read as options).
  id=-
  while [[ $id == -* ]]; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  local scram=()
  # A server.properties written before the secured listeners has no SCRAM user.
  if [ -n "$(advertised "$dir" SASL_SSL)" ]; then
    scram=(--add-scram "SCRAM-SHA-512=[name=$scramUser,password=$(cat "$dir/tls/scram.password")]")
  fi
  if ! java -cp "$libs/*" -Dlog4j.configuration="file:$here/log4j.properties" \
      kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" "${scram[@]}" >>"$dir/server.log" 2>&1; then
    tail -n 40 "$dir/server.log" >&2
    die "formatting the storage in $dir/data failed"
  fi
}

# advertised prints the address of listener $2 (PLAINTEXT, SASL_SSL, SSL) in
# $1/server.properties, nothing when it has none.
advertised() {
  sed -n 's/^advertised.listeners=//p' "$1/server.properties" | tr ',' '\n' | sed -n "s|^$2://||p"
}

bootstrapOf() { advertised "$1" PLAINTEXT; }

# writeEnv writes $1/secured.env: the secured listeners' addresses and files,
# as the end-to-end tests read them (test/kafka/README.md).
writeEnv() {
  local dir=$1 sasl mtls
  sasl=$(advertised "$dir" SASL_SSL)
  mtls=$(advertised "$dir" SSL)
  if [ -z "$sasl" ] || [ -z "$mtls" ]; then
    rm -f "$dir/secured.env"
    return 0
  fi
  {
    echo "# Written by test/kafka/kafka.sh: the broker's secured listeners."
    printf 'GOFKA_TEST_SASL_SSL_BROKERS=%q\n' "$sasl"
    printf 'GOFKA_TEST_MTLS_BROKERS=%q\n' "$mtls"
    printf 'GOFKA_TEST_KAFKA_CA=%q\n' "$dir/tls/ca.crt"
    printf 'GOFKA_TEST_MTLS_CERT=%q\n' "$dir/tls/client.crt"
    printf 'GOFKA_TEST_MTLS_KEY=%q\n' "$dir/tls/client.key"
    printf 'GOFKA_TEST_SCRAM_USER=%q\n' "$scramUser"
    printf 'GOFKA_TEST_SCRAM_PASSWORD=%q\n' "$(cat "$dir/tls/scram.password")"
  } >"$dir/secured.env.tmp"
  mv "$dir/secured.env.tmp" "$dir/secured.env"
}

# answers reports whether the broker at $1 lists itself in a metadata response.
answers() {
  kcat -L -b "$1" -m 3 2>/dev/null | grep -qF "broker 1 at $1"
}

# launch starts java in the background and waits until the broker answers.
# It returns 2 when a port was taken (the caller may pick others).
launch() {
  local dir=$1 addr pid deadline from
  addr=$(bootstrapOf "$dir")
  # Only this launch's part of server.log tells why it failed.
  from=$(($(stat -c %s "$dir/server.log" 2>/dev/null || echo 0) + 1))
  [ -n "$addr" ] || die "no PLAINTEXT advertised listener in $dir/server.properties"
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
  java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$here/log4j.properties" -Dkafka.logs.dir="$dir/logs" \
    -cp "$libs/*" kafka.Kafka "$dir/server.properties" >>"$dir/server.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/kafka.pid"
  deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120}))
  until answers "$addr"; do
    if ! pidOf "$dir" >/dev/null; then
      wait "$pid" 2>/dev/null || true
      rm -f "$dir/kafka.pid"
      if tail -c "+$from" "$dir/server.log" | grep -q 'Address already in use'; then
        return 2
      fi
      say "the broker in $dir exited before answering; the end of $dir/server.log:"
      tail -n 60 "$dir/server.log" >&2
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "the broker in $dir (pid $pid) did not answer at $addr within ${KAFKA_START_TIMEOUT:-120}s; the end of $dir/server.log:"
      tail -n 60 "$dir/server.log" >&2
      stop "$dir"
      exit 1
    fi
    sleep 0.3
  done
  writeEnv "$dir"
  echo "$addr" >"$dir/bootstrap"
}

start() {
  local dir=$1 fresh=0 attempt started=$SECONDS rc
  need java "install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"
  need kcat "run make deps (or apt-get install kcat): the readiness check uses it"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if pidOf "$dir" >/dev/null; then
    addr=$(bootstrapOf "$dir")
    answers "$addr" || die "a broker runs in $dir (pid $(cat "$dir/kafka.pid")) but does not answer at $addr"
    writeEnv "$dir"
    echo "$addr" >"$dir/bootstrap"
    echo "$addr"
    return 0
  fi
  rm -f "$dir/bootstrap" "$dir/secured.env"
  fetch
  secrets "$dir"
  for attempt in 1 2 3; do
    if [ ! -f "$dir/server.properties" ]; then
      configure "$dir"
      fresh=1
    fi
    format "$dir"
    rc=0
    launch "$dir" || rc=$?
    [ $rc -eq 0 ] && break
    # A port was taken between choosing and binding it. A fresh broker can move
    # to other ports; one restarted with its data keeps its address.
    if [ $fresh -eq 0 ] || [ $attempt -eq 3 ]; then
      tail -n 20 "$dir/server.log" >&2
      die "the broker in $dir cannot listen: a port in $dir/server.properties is in use"
    fi
    say "a port was taken; trying other ports"
    rm -rf "$dir/server.properties" "$dir/data"
  done
  say "Apache Kafka $version broker (pid $(cat "$dir/kafka.pid")) answers at $(cat "$dir/bootstrap") after $((SECONDS - started))s; files in $dir"
  cat "$dir/bootstrap"
}

stop() {
  local dir=$1 pid deadline
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  if pid=$(pidOf "$dir"); then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + ${KAFKA_STOP_GRACE:-30}))
    while pidOf "$dir" >/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if pidOf "$dir" >/dev/null; then
      say "the broker in $dir (pid $pid) ignored SIGTERM for ${KAFKA_STOP_GRACE:-30}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while pidOf "$dir" >/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
      pidOf "$dir" >/dev/null && die "the broker in $dir (pid $pid) is still alive after SIGKILL"
    fi
  fi
  rm -f "$dir/kafka.pid" "$dir/bootstrap" "$dir/secured.env"
}

status() {
  local dir=$1
  [ -d "$dir" ] || die "no directory $dir"
  dir=$(cd "$dir" && pwd)
  pidOf "$dir" >/dev/null || die "no broker runs in $dir"
  answers "$(bootstrapOf "$dir")" || die "the broker in $dir runs but does not answer"
  bootstrapOf "$dir"
}

usage() { die "usage: kafka.sh fetch | start <dir> | stop <dir> | status <dir>"; }

case "${1:-}" in
  fetch) [ $# -eq 1 ] || usage; fetch; echo "$libs" ;;
  start) [ $# -eq 2 ] || usage; start "$2" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  status) [ $# -eq 2 ] || usage; status "$2" ;;
  *) usage ;;
esac

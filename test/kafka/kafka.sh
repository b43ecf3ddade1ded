#!/usr/bin/env bash
# Apache Kafka brokers (KRaft, each node a combined broker and controller) on
# 127.0.0.1, for the real-Kafka test tier: a single node, or a cluster of n.
#
#   kafka.sh fetch          download the broker's jars when they are missing
#   kafka.sh start <dir>    fetch, configure, format and start a broker whose
#                           files are all in <dir>; print its bootstrap address
#                           once it answers Kafka metadata requests
#   kafka.sh stop <dir>     stop the broker started in <dir> (SIGTERM, then
#                           SIGKILL after a grace period) and wait until it exited;
#                           in a cluster's <dir>, every node (all at once)
#   kafka.sh status <dir>   exit 0 when the broker in <dir> runs and answers
#
#   kafka.sh start-cluster <dir> <n>    n nodes (3 to 9) in <dir>/node-1 … node-<n>,
#                           one controller quorum of all n, PLAINTEXT only,
#                           replication factor 3 and min.insync.replicas 2 for
#                           every topic (the internal ones too); print the
#                           bootstrap list (host:port,…) once every node answers
#   kafka.sh stop-node <dir> <i> [--kill]   stop node i: SIGTERM (a controlled
#                           shutdown), or with --kill SIGKILL at once
#   kafka.sh start-node <dir> <i>   start node i again with its data and ports;
#                           return (printing its address) once it serves metadata
#                           that lists it, i.e. it has rejoined the cluster
#
# The jars come from Maven Central through Maven (test/kafka/pom.xml pins the
# version) and are copied to ${XDG_CACHE_HOME:-$HOME/.cache}/gofka/kafka-<version>/libs,
# outside the repository; nothing downloaded is committed. In <dir> (in a
# cluster: in each <dir>/node-<i>): server.properties,
# data/ (the log directory), server.log (the broker's output), kafka.pid, and
# bootstrap (the PLAINTEXT address, written once the broker answers). A
# cluster's <dir>/bootstrap holds the list of all its nodes.
#
# Besides PLAINTEXT the single broker has two secured listeners, for the tests of the
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
# (make deps installs it) that must list the node's id at its advertised address.
#
# Environment: KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m for a single broker,
# -Xms128m -Xmx384m for a cluster's node), KAFKA_START_TIMEOUT (seconds, default
# 120), KAFKA_STOP_GRACE (seconds, default 30).
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
  {
    cat <<EOF
# Written by test/kafka/kafka.sh: a single-node KRaft broker for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$broker,SASL_SSL://127.0.0.1:$sasl,SSL://127.0.0.1:$mtls,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$broker,SASL_SSL://127.0.0.1:$sasl,SSL://127.0.0.1:$mtls
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
# One node: every replication factor and ISR is 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
EOF
    sharedConfig "$dir"
    cat <<EOF
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
  } >"$dir/server.properties"
}

# sharedConfig prints the settings of every broker, single or a cluster's node.
sharedConfig() {
  cat <<EOF
log.dirs=$1/data
# Fewer internal partitions than the defaults (50): the same behaviour, less to create.
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
# Topics are created by the tests and the applications, explicitly.
auto.create.topics.enable=false
num.partitions=4
group.initial.rebalance.delay.ms=0
# The log cleaner (compacted changelogs) within a small heap.
log.cleaner.dedupe.buffer.size=33554432
EOF
}

# configureCluster writes the server.properties of nodes 1..$2 of a fresh
# cluster in $1/node-<i>, and the cluster's id in $1/cluster.id.
configureCluster() {
  local dir=$1 n=$2 i voters="" ports
  read -r -a ports <<<"$(freePorts $((2 * n)))"
  # Node i listens for clients on ports[2i-2] and for the quorum on ports[2i-1].
  for ((i = 1; i <= n; i++)); do
    voters+="${voters:+,}$i@127.0.0.1:${ports[2 * i - 1]}"
  done
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$dir/node-$i"
    {
      cat <<EOF
# Written by test/kafka/kafka.sh: node $i of a $n-node KRaft cluster for tests.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${ports[2 * i - 2]},CONTROLLER://127.0.0.1:${ports[2 * i - 1]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[2 * i - 2]}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
# Three replicas of every partition; a write with acks=all (transactional and
# idempotent producers, offset commits, transaction state) needs two in sync,
# so any one node may be down.
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
# A node that stops heartbeating (SIGKILL) is fenced after 4 s rather than 9 s:
# its partitions get new leaders and leave it out of their ISR sooner. A
# follower that stops fetching leaves the ISR after 10 s rather than 30 s.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
replica.lag.time.max.ms=10000
EOF
      sharedConfig "$dir/node-$i"
    } >"$dir/node-$i/server.properties"
  done
  newClusterID >"$dir/cluster.id"
}

# newClusterID prints a random cluster id: 16 random bytes in URL-safe base64
# without padding; Kafka refuses ids that start with '-' (they read as options).
newClusterID() {
  local id=-
  while [[ $id == -* ]]; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  echo "$id"
}

# format writes the storage's metadata, once, with cluster id $2 (a cluster's
# nodes share one) or a random one.
format() {
  local dir=$1 id=${2:-}
  [ -f "$dir/data/meta.properties" ] && return 0
  [ -n "$id" ] || id=$(newClusterID)
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

# answers reports whether the broker in $1 lists itself (its node id at its
# advertised address) in a metadata response: it has caught up with the
# metadata log and is registered and not fenced.
answers() {
  local addr
  addr=$(bootstrapOf "$1")
  kcat -L -b "$addr" -m 3 2>/dev/null | grep -qF "broker $(sed -n 's/^node.id=//p' "$1/server.properties") at $addr"
}

# heap is the JVM heap options of a broker without KAFKA_HEAP_OPTS; the cluster
# commands lower it (three JVMs on a small machine).
heap="-Xms256m -Xmx512m"

# spawn starts the broker of $1 in the background (await waits for it).
spawn() {
  local dir=$1
  [ -n "$(bootstrapOf "$dir")" ] || die "no PLAINTEXT advertised listener in $dir/server.properties"
  # Only this launch's part of server.log tells why it failed.
  echo $(($(stat -c %s "$dir/server.log" 2>/dev/null || echo 0) + 1)) >"$dir/launch.from"
  # shellcheck disable=SC2086 # the heap options are several words
  java ${KAFKA_HEAP_OPTS:-$heap} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$here/log4j.properties" -Dkafka.logs.dir="$dir/logs" \
    -cp "$libs/*" kafka.Kafka "$dir/server.properties" >>"$dir/server.log" 2>&1 </dev/null &
  echo "$!" >"$dir/kafka.pid"
}

# await waits until the broker spawned in $1 answers, then writes $1/bootstrap.
# It returns 2 when the broker exited because a port was taken (the caller may
# pick others), 1 when it exited otherwise or did not answer in time (the end
# of its log is printed; it may still run).
await() {
  local dir=$1 addr pid from deadline
  addr=$(bootstrapOf "$dir")
  pid=$(cat "$dir/kafka.pid")
  from=$(cat "$dir/launch.from")
  deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120}))
  until answers "$dir"; do
    if ! pidOf "$dir" >/dev/null; then
      wait "$pid" 2>/dev/null || true
      rm -f "$dir/kafka.pid"
      if tail -c "+$from" "$dir/server.log" | grep -q 'Address already in use'; then
        return 2
      fi
      say "the broker in $dir exited before answering; the end of $dir/server.log:"
      tail -n 60 "$dir/server.log" >&2
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "the broker in $dir (pid $pid) did not answer at $addr within ${KAFKA_START_TIMEOUT:-120}s; the end of $dir/server.log:"
      tail -n 60 "$dir/server.log" >&2
      return 1
    fi
    sleep 0.3
  done
  writeEnv "$dir"
  echo "$addr" >"$dir/bootstrap"
}

# launch starts the broker of $1 and waits until it answers; on a failure
# other than a port in use (return 2) it stops it and exits.
launch() {
  local rc=0
  spawn "$1"
  await "$1" || rc=$?
  if [ $rc -eq 1 ]; then
    stop "$1"
    exit 1
  fi
  return $rc
}

# running prints the address of the broker in $1 when it runs and answers,
# fails when none runs, and dies when one runs but does not answer.
running() {
  local dir=$1 addr
  pidOf "$dir" >/dev/null || return 1
  addr=$(bootstrapOf "$dir")
  answers "$dir" || die "a broker runs in $dir (pid $(cat "$dir/kafka.pid")) but does not answer at $addr"
  writeEnv "$dir"
  echo "$addr" >"$dir/bootstrap"
  echo "$addr"
}

prepare() {
  need java "install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"
  need kcat "run make deps (or apt-get install kcat): the readiness check uses it"
  mkdir -p "$1"
}

start() {
  local dir=$1 fresh=0 attempt started=$SECONDS rc
  prepare "$dir"
  dir=$(cd "$dir" && pwd)
  running "$dir" && return 0
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

# nodes lists the node directories of the cluster in $1 (none: not a cluster).
nodes() {
  local d
  for d in "$1"/node-*; do
    [ -f "$d/server.properties" ] && echo "$d"
  done
  return 0
}

# startCluster starts the $2 nodes of the cluster in $1 together (a node
# answers only once a quorum of controllers has elected a leader), configuring
# and formatting them first when the cluster is new.
startCluster() {
  local dir=$1 n=$2 fresh=0 attempt started=$SECONDS rc node list
  [[ $n =~ ^[3-9]$ ]] || die "start-cluster: $n nodes: give 3 to 9 (replication factor 3)"
  prepare "$dir"
  dir=$(cd "$dir" && pwd)
  rm -f "$dir/bootstrap"
  fetch
  for attempt in 1 2 3; do
    if [ ! -f "$dir/cluster.id" ]; then
      rm -rf "$dir"/node-*
      configureCluster "$dir" "$n"
      fresh=1
    fi
    [ "$(nodes "$dir" | wc -l)" -eq "$n" ] || die "$dir holds a cluster of $(nodes "$dir" | wc -l) nodes, not $n"
    for node in $(nodes "$dir"); do
      format "$node" "$(cat "$dir/cluster.id")"
      pidOf "$node" >/dev/null || spawn "$node"
    done
    rc=0
    for node in $(nodes "$dir"); do
      await "$node" || { rc=$?; break; }
    done
    [ $rc -eq 0 ] && break
    stop "$dir"
    [ $rc -eq 2 ] && [ $fresh -eq 1 ] && [ $attempt -lt 3 ] || die "the cluster in $dir did not start"
    say "a port was taken; trying other ports"
    rm -f "$dir/cluster.id"
  done
  list=$(nodes "$dir" | while read -r node; do cat "$node/bootstrap"; done | paste -sd, -)
  echo "$list" >"$dir/bootstrap"
  say "Apache Kafka $version cluster of $n nodes answers at $list after $((SECONDS - started))s; files in $dir"
  echo "$list"
}

# nodeDir is the directory of node $2 of the cluster in $1.
nodeDir() {
  [[ $2 =~ ^[1-9]$ ]] && [ -f "$1/node-$2/server.properties" ] || die "$1 has no node $2"
  (cd "$1/node-$2" && pwd)
}

# startNode starts node $2 of the cluster in $1 again, with its data and ports.
startNode() {
  local node started=$SECONDS
  node=$(nodeDir "$1" "$2")
  need kcat "run make deps (or apt-get install kcat): the readiness check uses it"
  running "$node" && return 0
  launch "$node" || die "node $2 cannot listen: a port in $node/server.properties is in use"
  say "node $2 (pid $(cat "$node/kafka.pid")) answers again at $(cat "$node/bootstrap") after $((SECONDS - started))s"
  cat "$node/bootstrap"
}

# stopBroker stops the broker in $1 with signal $2 (TERM: SIGKILL after
# KAFKA_STOP_GRACE seconds if it is still running) and waits until it exited.
stopBroker() {
  local dir=$1 sig=$2 pid deadline
  if pid=$(pidOf "$dir"); then
    kill "-$sig" "$pid" 2>/dev/null || true
    deadline=$((SECONDS + ${KAFKA_STOP_GRACE:-30}))
    while pidOf "$dir" >/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if pidOf "$dir" >/dev/null; then
      say "the broker in $dir (pid $pid) ignored SIG$sig for ${KAFKA_STOP_GRACE:-30}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while pidOf "$dir" >/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
      pidOf "$dir" >/dev/null && die "the broker in $dir (pid $pid) is still alive after SIGKILL"
    fi
  fi
  rm -f "$dir/kafka.pid" "$dir/bootstrap" "$dir/secured.env"
}

# stop stops the broker in $1, or every node of the cluster in $1 at once.
stop() {
  local dir=$1 node pids=() rc=0 p
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  for node in $(nodes "$dir"); do
    stopBroker "$node" TERM &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  stopBroker "$dir" TERM
  [ $rc -eq 0 ] || die "a node of the cluster in $dir did not stop"
}

status() {
  local dir=$1
  [ -d "$dir" ] || die "no directory $dir"
  dir=$(cd "$dir" && pwd)
  pidOf "$dir" >/dev/null || die "no broker runs in $dir"
  answers "$dir" || die "the broker in $dir runs but does not answer"
  bootstrapOf "$dir"
}

usage() {
  die "usage: kafka.sh fetch | start <dir> | stop <dir> | status <dir> | start-cluster <dir> <n> | stop-node <dir> <i> [--kill] | start-node <dir> <i>"
}

case "${1:-}" in
  fetch) [ $# -eq 1 ] || usage; fetch; echo "$libs" ;;
  start) [ $# -eq 2 ] || usage; start "$2" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  status) [ $# -eq 2 ] || usage; status "$2" ;;
  start-cluster) [ $# -eq 3 ] || usage; heap="-Xms128m -Xmx384m"; startCluster "$2" "$3" ;;
  start-node) [ $# -eq 3 ] || usage; heap="-Xms128m -Xmx384m"; startNode "$2" "$3" ;;
  stop-node)
    [ $# -eq 3 ] || { [ $# -eq 4 ] && [ "$4" = --kill ]; } || usage
    node=$(nodeDir "$2" "$3")
    if [ "${4:-}" = --kill ]; then stopBroker "$node" KILL; else stopBroker "$node" TERM; fi
    ;;
  *) usage ;;
esac

# Gofka Streams — the commands a developer and CI run. `make help` lists them.
GO ?= go
FUZZTIME ?= 60s

BENCHSTAT ?= $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
N ?= 1000000
RUNS ?= 3
KEYS ?= 10000000
EOS_RUNS ?= 1
RATE ?= 5000

CHAOS_KILLS ?= 20
CHAOS_CLICKS ?= 1000000
CHAOS_SEED ?=
BROKER_RESTARTS ?= 10
BROKER_CLICKS ?= 200000
CHAOS_ENV = GOFKA_CHAOS_KILLS=$(CHAOS_KILLS) GOFKA_CHAOS_CLICKS=$(CHAOS_CLICKS) GOFKA_CHAOS_SEED=$(CHAOS_SEED) \
  GOFKA_BROKER_RESTARTS=$(BROKER_RESTARTS) GOFKA_BROKER_CLICKS=$(BROKER_CLICKS)

.PHONY: help deps test webview-screenshot test-kafka chaos vet check-generated fuzz bench bench-operators bench-e2e bench-cluster bench-eos bench-serde bench-windows bench-windowed bench-memory generate demo

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

deps: ## install librocksdb-dev, kcat, openssl, protoc and chromium with apt-get when missing (says so)
	@bash scripts/deps.sh

test: deps vet check-generated ## run every test (unit, golden, end-to-end, fuzz seed corpus; the library's module, then bench/'s), then the real-Kafka tier when java and mvn are present
	GOFKA_REQUIRE_BROWSER=1 $(GO) test -count=1 -timeout 30m ./...
	cd bench && $(GO) test -count=1 -timeout 30m ./...
	@GO=$(GO) bash test/kafka/run-tier.sh --optional

test-kafka: deps ## the end-to-end tests on a real Apache Kafka broker, also over SASL_SSL and mutual TLS (needs java, mvn and openssl; jars cached outside the repo)
	@GO=$(GO) bash test/kafka/run-tier.sh

chaos: deps ## SIGKILL (CHAOS_KILLS times) and SIGTERM random replicas of a 3-replica click-count while CHAOS_CLICKS random clicks stream in, at least- and exactly-once, on kfake then on real Kafka; then restart nodes of a 3-node Kafka cluster BROKER_RESTARTS times under BROKER_CLICKS; check counts, transactions and ownership
	$(CHAOS_ENV) $(GO) test -count=1 -timeout 90m -v -run 'TestChaos(ExactlyOnce)?$$' ./test/e2e/
	$(CHAOS_ENV) GO=$(GO) KAFKA_TIER_RUN='TestChaos(ExactlyOnce)?$$|BrokerRestarts$$' KAFKA_TIER_ARGS='-v -timeout 90m' bash test/kafka/run-tier.sh

webview-screenshot: deps ## run the web view's browser test on three click-count replicas and keep its screenshot in docs/webview.png
	GOFKA_REQUIRE_BROWSER=1 GOFKA_WEBVIEW_SCREENSHOT=$(CURDIR)/docs/webview.png $(GO) test -count=1 -run 'TestWebViewThreeReplicas$$' -v ./test/e2e

demo: deps ## generate, build and run click-count on an embedded broker; print and check the counts
	@bash scripts/demo.sh

vet: ## go vet (the library's module and bench/'s), plus gofmt
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '/want/')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd bench && $(GO) vet ./...

check-generated: ## fail if a committed gofka_gen.go is stale (gofkagen check)
	@for d in $$(git ls-files '*gofka_gen.go' | grep -v '/want/' | xargs -r -n1 dirname); do \
	  $(GO) run ./cmd/gofkagen check $$d || exit 1; done

generate: ## regenerate every gofka_gen.go in the repository (the library's module and bench/'s)
	$(GO) generate ./...
	cd bench && $(GO) generate ./...

fuzz: ## fuzz the frontend with mutated topologies, and the generated JSON serdes against encoding/json (decode, encode), each for FUZZTIME (default 60s)
	$(GO) test ./frontend -run XXX -fuzz FuzzCompile -fuzztime $(FUZZTIME)
	$(GO) test ./codegen/jsongen/difftest -run XXX -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./codegen/jsongen/difftest -run XXX -fuzz FuzzEncode -fuzztime $(FUZZTIME) -fuzzminimizetime 1s

# The benchmarks are a module of their own (bench/go.mod: gonum/plot and what
# only they need stay out of the library's go.mod); they run from bench/, and
# their -out, -chart, -raw and -profile-dir paths are relative to the repository root.
bench: bench-operators bench-serde bench-e2e bench-cluster bench-eos bench-windows bench-windowed bench-memory ## every benchmark below, in one go (results in bench/results/)

bench-operators: ## generated code vs hand-written loop vs interface chain vs library-style chain, 1M in-memory records
	@mkdir -p bench/results
	cd bench && $(GO) test -run XXX -bench ClickCount -benchmem -count 6 ./operators | tee results/operators.txt
	$(BENCHSTAT) -col /impl bench/results/operators.txt | tee bench/results/operators-benchstat.txt
	cd bench && $(GO) test -run XXX -bench PairedRatios -benchtime 30x ./operators | tee results/operators-paired.txt

bench-serde: ## JSON serdes: generated vs encoding/json vs goccy/go-json vs sonic, decoding and encoding a click and a Nexmark bid (SERDE_BENCH="-benchtime 100000x" to shorten)
	@mkdir -p bench/results
	cd bench && $(GO) test -run XXX -bench '^BenchmarkSerde$$' -benchmem -count 6 $(SERDE_BENCH) ./serde | tee results/serde.txt
	cd bench && $(GO) test -run XXX -bench '^BenchmarkSerdePaired$$' -benchtime 30x ./serde | tee -a results/serde.txt
	cd bench && $(GO) run ./serde/report -in results/serde.txt -out results/serde.md -command "make bench-serde $(if $(SERDE_BENCH),SERDE_BENCH='$(SERDE_BENCH)')"

bench-e2e: deps ## click-count end to end: gofka vs Kafka Streams vs goka vs raw pipes, one broker (real Kafka with java+mvn), N records, RUNS runs
	cd bench && $(GO) run ./e2e -n $(N) -runs $(RUNS) -out bench/results/e2e.md -chart bench/results/e2e.png \
	  -profile-dir bench/results -command "make $(or $(MAKECMDGOALS),bench-e2e) N=$(N) RUNS=$(RUNS)"

bench-cluster: deps ## distributed runtime: failover time (3 replicas, SIGKILL), restore of KEYS keys from a snapshot vs changelog replay, checkpoints every 1s vs none on N clicks, failover of a KEYS-key store with --standby-replicas 1 vs 0; RUNS runs
	cd bench && $(GO) run ./cluster -keys $(KEYS) -n $(N) -runs $(RUNS) -out bench/results/cluster.md -raw bench/results/cluster-runs.json \
	  -command "make $(or $(MAKECMDGOALS),bench-cluster) KEYS=$(KEYS) N=$(N) RUNS=$(RUNS)"

bench-eos: deps ## exactly-once vs at-least-once, gofka vs Kafka Streams exactly_once_v2, commit 100ms/1s/10s: throughput on N clicks (EOS_RUNS runs), p50/p99 latency at RATE clicks/s, commit at checkpoints, 8 vs 64 partitions
	cd bench && $(GO) run ./e2e -eos -n $(N) -runs $(EOS_RUNS) -rate $(RATE) -eos-partitions 8,64 -out bench/results/eos.md -raw bench/results/eos-runs.json \
	  -profile-dir bench/results -command "make $(or $(MAKECMDGOALS),bench-eos) N=$(N) EOS_RUNS=$(EOS_RUNS) RATE=$(RATE)"

MEMORY_KEYS ?= 100000,1000000,10000000
MEMORY_SIZES ?= 128MiB,256MiB,512MiB
MEMORY_SKIP ?= 10000000/512MiB
MEMORY_BASELINE ?= e128674
bench-memory: deps ## issue 17.5: peak RSS and throughput of one click-count replica under --memory MEMORY_SIZES over MEMORY_KEYS distinct keys, beside the binary at MEMORY_BASELINE (the code before the whole-process budget); embedded broker
	cd bench && $(GO) run ./cluster -scenarios memory -broker embedded -memory-keys $(MEMORY_KEYS) -memory-sizes $(MEMORY_SIZES) \
	  -memory-skip '$(MEMORY_SKIP)' -baseline $(MEMORY_BASELINE) -timeout 10m -out bench/results/memory.md -raw bench/results/memory-runs.json \
	  -command "make bench-memory MEMORY_KEYS=$(MEMORY_KEYS) MEMORY_SIZES=$(MEMORY_SIZES) MEMORY_SKIP='$(MEMORY_SKIP)' MEMORY_BASELINE=$(MEMORY_BASELINE)"

bench-windows: ## windowed counts in memory (issue 14): tumbling and hopping, generated vs a hand-written loop, sessions reported; 1M records, 10,000 keys (raw output in bench/results/windows.txt)
	@mkdir -p bench/results
	cd bench && $(GO) test -run '^$$' -bench 'Tumbling|Hopping|Session' -benchmem -benchtime 2x ./windows | tee results/windows.txt

bench-windowed: deps ## windowed count end to end (issue 14): examples/pageviews vs Kafka Streams WindowedCount, one broker (real Kafka with java+mvn), N page views, RUNS runs
	cd bench && $(GO) run ./e2e -windowed -n $(N) -runs $(RUNS) -out bench/results/windowed.md \
	  -command "make $(or $(MAKECMDGOALS),bench-windowed) N=$(N) RUNS=$(RUNS)"

.PHONY: nexmark
NEXMARK_BENCH ?= -benchtime 3x
NEXMARK_EVENTS ?= 1000000
nexmark: ## Nexmark (issue 15, 8): (a) each built query in process on one core (100,000 events per op); then, when java and mvn are present, (b) the gofka binary and (c) Kafka Streams 3.9.1 through a real broker on NEXMARK_EVENTS pre-loaded events, outputs checked against the reference; one table beside Flink 1.13 and Feldera in bench/results/nexmark.md, chart nexmark.png (NEXMARK_BENCH="-benchtime 1x" NEXMARK_EVENTS=100000 to shorten)
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench '^BenchmarkNexmark$$' -benchmem -cpu 1 $(NEXMARK_BENCH) ./examples/nexmark/ | tee bench/results/nexmark.txt
	$(GO) run ./examples/nexmark/benchreport -in bench/results/nexmark.txt -out bench/results/nexmark.md -load "$$(cut -d' ' -f1-3 /proc/loadavg)" -command "make nexmark$(if $(filter-out -benchtime 3x,$(NEXMARK_BENCH)), NEXMARK_BENCH='$(NEXMARK_BENCH)')"
	@if command -v java >/dev/null && command -v mvn >/dev/null; then \
	  kafka="$$PWD/test/kafka/kafka.sh" dir=$$(mktemp -d) && trap 'bash '"$$kafka"' stop '"$$dir"' >/dev/null; rm -rf '"$$dir" EXIT && \
	  addr=$$(bash "$$kafka" start "$$dir" | tail -n 1) && \
	  cd bench && $(GO) run ./nexmark -brokers "$$addr" -events $(NEXMARK_EVENTS) -out bench/results/nexmark.md; \
	else echo "make nexmark: no java or mvn on the PATH: skipping (b) and (c), through the broker and Kafka Streams (apt-get install openjdk-17-jdk-headless maven)"; fi

// Package e2e holds end-to-end tests: they build examples/clickcount into a real
// binary and run it, and a standalone development broker made from the same
// binary, as separate processes on 127.0.0.1, then check what the application
// wrote against expectations computed in the tests. Run them with
//
//	go test ./test/e2e -count=1 -v
//
// What they cover, by file:
//
//	clickcount_test.go  one replica: exact output without crashes, SIGKILL mid-stream, restore from the changelog, SIGTERM while busy
//	cluster_test.go     three replicas: shared and balanced tasks, a worker and the leader SIGKILLed, a rolling restart,
//	                    a SIGSTOPped replica fenced before it writes, snapshot restore (directory and S3 on MinIO) equal
//	                    to a changelog replay, corrupted snapshots detected and fallen back from
//	chaos_test.go       random SIGKILLs and clean restarts while random-user clicks stream, also under exactly-once (no
//	                    transaction left open); make chaos runs them at 1M clicks on both tiers
//	eos_test.go         --guarantee exactly-once, read read_committed, every user's counts exactly 1..n: SIGKILL of one
//	                    replica and of one of three, a SIGSTOPped replica fenced, a commit aborted by a test hook, an
//	                    EndTxn timed out, a panic mid-transaction; TestExactlyOnceFaults: a fault hook
//	                    (runtime/engine/faults.go) in the flush, a produce, a snapshot's SST upload, its manifest
//	                    write and a restore's download
//	eos_zombie_test.go  a SIGSTOPped replica resumed under exactly-once: the records' producer epochs (read_uncommitted
//	                    and read_committed) show the broker refused its writes, the group's offsets never went back
//	checkpoint_abort_test.go  a snapshot upload or manifest write fails: the replica aborts the checkpoint at once
//	                    (the coordinator's /status says by whom and why), a later one completes, under both guarantees
//	eos_rollback_test.go  exactly-once: a failed commit rolls back only its task (/status starts and rollbacks); a
//	                    SIGTERM restart starts from local state (clean-shutdown marker), a SIGKILL restart does not
//	peertls_test.go     three replicas over peer mutual TLS refuse an impostor with a certificate of another CA; exact output
//	global_test.go      two replicas of examples/orderenrich (a global table): outputs equal a brute-force join; a restart
//	                    after SIGTERM, and after SIGKILL, reads only the tail of the table's topic (/status restored_records)
//	tabletable_test.go  examples/tabletable (inner, left, outer table-table joins), both sides interleaved on 3 partitions:
//	                    each output, as a table, converges to a brute-force join; restarted empty, every customer deleted
//	webview_test.go     the web view at / of one of three replicas, in headless chromium (chromedp): the Mermaid
//	                    diagram, members and leader, assignment and task rows equal to /status, changed after a SIGKILL
//	badrecord_test.go, startup_test.go, kcat_test.go, examples_test.go: bad input, start-up order, an independent client, the examples
//	ownmodule_test.go   the README's "Use it in your own module" recipe, step by step, in a fresh module outside the repository
//	brokers_test.go     real Kafka only (GOFKA_TEST_KAFKA_SH): three replicas on a 3-node KRaft cluster of the test's own
//	                    while nodes restart (clean and SIGKILL): exact under exactly-once, no loss under at-least-once
//	secured_test.go     real Kafka only: the SASL_SSL (SCRAM-SHA-512) and mutual-TLS listeners, with franz-go and with
//	                    click-count's --tls-* and --sasl-* flags, counted update by update; misconfigurations end the run
//
// With GOFKA_TEST_BROKERS=host:port every test uses that broker instead of
// starting a development broker, emptying it before and after each test: make
// test-kafka runs them so on a real Apache Kafka broker (test/kafka), and also
// sets the GOFKA_TEST_* variables of its secured listeners, without which the
// tests of secured_test.go skip (test/kafka/README.md). The S3 test
// starts MinIO through internal/miniotest. TestKcatIndependentClient also needs
// kcat on PATH (make deps installs it), TestWebViewThreeReplicas chromium (idem;
// internal/browsertest).
package e2e

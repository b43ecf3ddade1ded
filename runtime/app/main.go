package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/internal/describe"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/runtime/discovery"
	"github.com/gofka/streams/runtime/engine"
	"github.com/gofka/streams/runtime/kafkaconf"
	"github.com/gofka/streams/state/rocks"
	"github.com/gofka/streams/state/snapshot"
)

// Main runs the command line with the process's arguments and exits.
func Main(programs ...*runtime.Program) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Command(ctx, programs, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runFlags are the flags of run.
type runFlags struct {
	brokers        string
	appID          string
	stateDir       string
	replicaID      string
	guarantee      string
	commitInterval time.Duration
	purgeInterval  time.Duration
	logLevel       string
	embeddedListen string
	partitions     int32
	onBadRecord    string
	deadLetter     string
	memory         string
	topology       string
	cpuProfile     string

	// the coordinator group and checkpoints
	raftAddr           string
	advertise          string
	peers              string
	peersDNS           string
	voters             int
	statusAddr         string
	failureTimeout     time.Duration
	standbyReplicas    int
	acceptableLag      int64
	maxWarmups         int
	checkpointInterval time.Duration
	keepCheckpoints    int
	snapshots          string
	s3Endpoint         string
	s3PathStyle        bool
	s3Region           string
	statusAddrSet      bool
	discovery          bool
	replicaIDSet       bool

	// TLS and SASL to the brokers
	kafka kafkaconf.Security

	// mutual TLS between replicas; TLS and a token on the status server
	peerTLSCA, peerTLSCert, peerTLSKey string
	statusTLSCert, statusTLSKey        string
	statusTokenFile                    string
}

// Command runs the command line with args and returns the exit status; ctx ends
// the run gracefully (SIGTERM and SIGINT in Main).
func Command(ctx context.Context, programs []*runtime.Program, args []string, stdout, stderr io.Writer) int {
	var rf runFlags
	root := &cobra.Command{
		Use:   appName(),
		Short: "A Gofka Streams application, compiled by gofkagen",
		Long: `A Gofka Streams application, compiled by gofkagen. With no command it runs
the topology ("run"). Without --brokers (or GOFKA_BROKERS) it starts an embedded
broker, which keeps data in memory only, so the application works on a machine
with nothing installed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rf.statusAddrSet = cmd.Flags().Changed("status-addr")
			rf.replicaIDSet = cmd.Flags().Changed("replica-id")
			return run(ctx, programs, rf, stderr)
		},
	}
	run := &cobra.Command{
		Use:   "run",
		Short: "Process the topology (the default command)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rf.statusAddrSet = cmd.Flags().Changed("status-addr")
			rf.replicaIDSet = cmd.Flags().Changed("replica-id")
			return run(ctx, programs, rf, stderr)
		},
	}
	for _, c := range []*cobra.Command{root, run} {
		addRunFlags(c, &rf)
	}
	root.AddCommand(run)

	root.AddCommand(brokerCommand(ctx, stderr))
	root.AddCommand(schemasCommand(ctx, stdout))

	var format, describeTopology string
	describeCmd := &cobra.Command{
		Use:   "describe",
		Short: "Print the topology with its sub-topologies, as text and as a Mermaid diagram",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var tops []describe.Topology
			for _, p := range programs {
				tops = append(tops, describe.Topology{Name: p.Name, Text: p.Description, Mermaid: p.Mermaid})
			}
			return describe.WriteAll(stdout, tops, describeTopology, format)
		},
	}
	describeCmd.Flags().StringVar(&format, "format", "both", "both, text or mermaid (bare Mermaid, one diagram: give --topology when the binary has several)")
	describeCmd.Flags().StringVar(&describeTopology, "topology", "", "describe only this topology (default: all)")
	root.AddCommand(describeCmd)

	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// addRunFlags gives c the flags of run (the root command runs too), bound to rf.
func addRunFlags(c *cobra.Command, rf *runFlags) {
	f := c.Flags()
	f.StringVar(&rf.brokers, "brokers", os.Getenv("GOFKA_BROKERS"), "comma-separated Kafka brokers (default $GOFKA_BROKERS; none: start an embedded broker)")
	f.StringVar(&rf.appID, "app-id", "", "application id: names the internal topics and the offsets group (default: the topology's, e.g. click-count)")
	f.StringVar(&rf.stateDir, "state-dir", "gofka-state", "directory for local state: RocksDB, the Raft log and (by default) snapshots")
	f.StringVar(&rf.replicaID, "replica-id", "0", "this replica's id, unique among the replicas of the application")
	f.StringVar(&rf.guarantee, "guarantee", "at-least-once", "processing guarantee: at-least-once (records may be processed again after a failure, never lost) or exactly-once (each task's output, state and input offsets commit in one Kafka transaction per commit interval; consumers of the output read read_committed)")
	f.DurationVar(&rf.commitInterval, "commit-interval", 5*time.Second, "how often state is flushed and input offsets committed")
	f.DurationVar(&rf.purgeInterval, "repartition-purge-interval", 30*time.Second, "how often the committed records of repartition topics are deleted (they are never deleted by time: their records carry event time) (0: never)")
	f.StringVar(&rf.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&rf.embeddedListen, "embedded-listen", "127.0.0.1:9092", "address of the embedded broker, when there is no --brokers")
	f.Int32Var(&rf.partitions, "embedded-partitions", 4, "partitions of topics the embedded broker creates")
	f.StringVar(&rf.onBadRecord, "on-bad-record", "fail", "what to do with a record that cannot be decoded: fail, skip or dead-letter")
	f.StringVar(&rf.deadLetter, "dead-letter-topic", "", "topic for dead-lettered records (default <app-id>-dead-letter)")
	f.StringVar(&rf.memory, "memory", "256MiB", "memory budget of the whole process, to set a container's limit from: min(48MiB, half) is the process's fixed part (code, threads); of the rest R, 3/16 RocksDB block cache (data, index and filter blocks), 1/8 RocksDB memtables, 1/8 typed state caches, 1/8 Kafka fetch and produce buffers, 9/16 the Go heap's soft limit (GOMEMLIMIT, unless set; it holds the caches and Kafka buffers), 1/8 reserve (table readers, allocator); at least 32MiB")
	f.StringVar(&rf.topology, "topology", "", "which topology to run when the binary has several")
	f.StringVar(&rf.cpuProfile, "cpu-profile", "", "write a pprof CPU profile of the run to this file")

	f.StringVar(&rf.raftAddr, "raft-addr", "127.0.0.1:0", "address the coordinator (Raft and its control RPCs) listens on; give a fixed port when there are peers")
	f.StringVar(&rf.advertise, "raft-advertise", "", "address other replicas reach this one at (default --raft-addr)")
	f.StringVar(&rf.peers, "peers", "", "comma-separated --raft-addr of the application's replicas, this one included; the first --voters are the voters (none: a single replica)")
	f.StringVar(&rf.peersDNS, "peers-dns", "", "find peers through this DNS name instead of --peers (SRV records _raft._tcp, else A records on --raft-addr's port), e.g. a Kubernetes headless service")
	f.BoolVar(&rf.discovery, "discovery", true, "without --peers or --peers-dns, find the other replicas of --app-id through the topic <app-id>-gofka-replicas, so that starting another instance scales out (false: run alone)")
	f.IntVar(&rf.voters, "voters", 3, "how many replicas vote in the Raft group: 1, 3 or 5 (the rest follow as non-voters)")
	f.StringVar(&rf.statusAddr, "status-addr", "127.0.0.1:7070", "HTTP address of /status, /healthz, /readyz and /metrics (empty: none)")
	f.DurationVar(&rf.failureTimeout, "failure-timeout", 3*time.Second, "a replica not heard from for this long is declared dead and its tasks move")
	f.IntVar(&rf.standbyReplicas, "standby-replicas", 0, "standby replicas per stateful task: other replicas keep a warm copy of its state by tailing its changelogs, and one takes the task over when its owner dies, replaying only a short tail (Kafka Streams' num.standby.replicas)")
	f.IntVar(&rf.maxWarmups, "max-warmup-replicas", coordinator.DefaultMaxWarmupReplicas, "warm-ups at a time: a stateful task moved to balance the load (scale-out, a replica rejoining) keeps running on its owner while a standby on its new replica catches up (Kafka Streams' max.warmup.replicas)")
	f.Int64Var(&rf.acceptableLag, "acceptable-recovery-lag", coordinator.DefaultAcceptableRecoveryLag, "changelog records a standby may be behind and still count as caught up: a dead replica's task goes to a caught-up standby first (Kafka Streams' acceptable.recovery.lag)")
	f.DurationVar(&rf.checkpointInterval, "checkpoint-interval", 10*time.Second, "how often the coordinator starts a barrier checkpoint (0: never)")
	f.IntVar(&rf.keepCheckpoints, "keep-checkpoints", 3, "complete checkpoints kept in the snapshot store; older ones are deleted, sparing files younger than 10 minutes (a grace period for uploads in flight)")
	f.StringVar(&rf.snapshots, "snapshots", "", "where snapshots go: file:///path or s3://bucket/prefix (default file://<state-dir>/snapshots; keys start with the app id)")
	f.StringVar(&rf.s3Endpoint, "s3-endpoint", "", "S3 endpoint URL for S3-compatible servers (MinIO, Ceph); credentials come from the AWS default chain")
	f.BoolVar(&rf.s3PathStyle, "s3-path-style", false, "address S3 buckets by path (http://host/bucket), as most S3-compatible servers need")
	f.StringVar(&rf.s3Region, "s3-region", "", "S3 region (default from the AWS configuration, else us-east-1)")
	rf.kafka.AddFlags(f)

	f.StringVar(&rf.peerTLSCA, "peer-tls-ca", "", "CA certificate (PEM) that signs every replica's certificate: Raft and the control RPCs between replicas run over mutual TLS (with --peer-tls-cert and --peer-tls-key)")
	f.StringVar(&rf.peerTLSCert, "peer-tls-cert", "", "this replica's certificate (PEM), signed by --peer-tls-ca, usable for server and client authentication")
	f.StringVar(&rf.peerTLSKey, "peer-tls-key", "", "the private key (PEM) of --peer-tls-cert")
	f.StringVar(&rf.statusTLSCert, "status-tls-cert", "", "certificate (PEM) for the status server: it serves HTTPS (with --status-tls-key)")
	f.StringVar(&rf.statusTLSKey, "status-tls-key", "", "the private key (PEM) of --status-tls-cert")
	f.StringVar(&rf.statusTokenFile, "status-token-file", "", "file holding a bearer token the status server then requires for everything but /healthz and /readyz")
}

func appName() string {
	if len(os.Args) > 0 {
		name := os.Args[0]
		if i := strings.LastIndexAny(name, `/\`); i >= 0 {
			name = name[i+1:]
		}
		return name
	}
	return "app"
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func pickProgram(programs []*runtime.Program, name string) (*runtime.Program, error) {
	if name == "" && len(programs) == 1 {
		return programs[0], nil
	}
	var names []string
	for _, p := range programs {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	if name == "" {
		return nil, fmt.Errorf("this binary has %d topologies (%s): choose one with --topology", len(programs), strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("no topology %q: this binary has %s", name, strings.Join(names, ", "))
}

// kafkaOptions are the franz-go options of the security flags; it logs the
// settings (never a secret).
func kafkaOptions(ctx context.Context, sec *kafkaconf.Security, log *slog.Logger) ([]kgo.Opt, error) {
	opts, err := sec.Options(ctx)
	if err != nil {
		return nil, err
	}
	if sec.PasswordOnCommandLine() {
		log.Warn("the SASL password given with --sasl-password is visible to other users of this machine in the process list; prefer $" +
			kafkaconf.EnvPassword + " or --sasl-password-file")
	}
	log.Info("kafka client security", "kafka", sec)
	return opts, nil
}

func run(ctx context.Context, programs []*runtime.Program, rf runFlags, stderr io.Writer) error {
	log, err := newLogger(rf.logLevel, stderr)
	if err != nil {
		return err
	}
	prog, err := pickProgram(programs, rf.topology)
	if err != nil {
		return err
	}
	if rf.cpuProfile != "" {
		f, err := os.Create(rf.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if rf.maxWarmups < 1 {
		return fmt.Errorf("--max-warmup-replicas must be at least 1, not %d", rf.maxWarmups)
	}
	switch rf.guarantee {
	case "at-least-once", "exactly-once":
	default:
		return fmt.Errorf("--guarantee must be at-least-once or exactly-once, not %q", rf.guarantee)
	}
	memory, err := parseBytes(rf.memory)
	if err != nil {
		return fmt.Errorf("--memory: %w", err)
	}
	if memory < rocks.MinBudget {
		return fmt.Errorf("--memory %s is below the minimum of %dMiB: %s", rf.memory, rocks.MinBudget>>20, engine.MinMemoryWhy)
	}
	split := engine.SplitMemory(memory)
	goLimit := engine.SetGoMemoryLimit(split, log)
	log.Info("memory budget", "total_bytes", memory, "block_cache_bytes", split.Rocks.BlockCache, "write_buffer_bytes", split.Rocks.WriteBuffers,
		"typed_cache_bytes", split.TypedCaches, "kafka_buffer_bytes", split.Kafka, "go_memory_limit_bytes", goLimit)
	pt, err := replicaSecurity(rf, log)
	if err != nil {
		return err
	}
	cfg := engine.Config{
		AppID: rf.appID, StateDir: rf.stateDir, ReplicaID: rf.replicaID,
		CommitInterval: rf.commitInterval, RepartitionPurgeInterval: purgeFlag(rf.purgeInterval), ExactlyOnce: rf.guarantee == "exactly-once", OnBadRecord: engine.BadRecordPolicy(rf.onBadRecord),
		DeadLetterTopic: rf.deadLetter, MemoryBudget: memory, Logger: log,
		StatusAddr: rf.statusAddr, StatusAddrFallback: !rf.statusAddrSet, Snapshots: rf.snapshots,
		StatusTLSCert: rf.statusTLSCert, StatusTLSKey: rf.statusTLSKey, StatusTokenFile: rf.statusTokenFile,
		SnapshotsOptions: snapshot.Options{Endpoint: rf.s3Endpoint, PathStyle: rf.s3PathStyle, Region: rf.s3Region},
		Cluster: coordinator.Config{
			RaftAddr: rf.raftAddr, AdvertiseAddr: rf.advertise, PeersDNS: rf.peersDNS, Voters: rf.voters,
			FailureTimeout: rf.failureTimeout, CheckpointInterval: rf.checkpointInterval, KeepCheckpoints: rf.keepCheckpoints,
			StandbyReplicas: rf.standbyReplicas, AcceptableRecoveryLag: rf.acceptableLag, MaxWarmupReplicas: rf.maxWarmups,
			PeerTLS: pt,
		},
	}
	if rf.peers != "" {
		cfg.Cluster.Peers = strings.Split(rf.peers, ",")
	}
	if cfg.AppID == "" {
		cfg.AppID = prog.DefaultAppID
	}
	if rf.brokers != "" {
		cfg.Brokers = strings.Split(rf.brokers, ",")
		if cfg.KafkaOptions, err = kafkaOptions(ctx, &rf.kafka, log); err != nil {
			return err
		}
	} else {
		if rf.kafka.Enabled() {
			return errors.New("the --tls and --sasl flags need --brokers: the embedded broker is plaintext (to rehearse a secured deployment, run the broker command with --tls-cert, --tls-key and --sasl-user)")
		}
		cluster, err := startBroker(rf.embeddedListen, rf.partitions)
		if err != nil {
			return err
		}
		defer cluster.Close()
		log.Warn("no --brokers given: started an embedded broker; it keeps data in memory only and loses it when the process exits",
			"listen", cluster.ListenAddrs()[0])
		cfg.Brokers = cluster.ListenAddrs()
		cfg.CreateTopics = true
		cfg.DefaultPartitions = rf.partitions
	}
	if len(cfg.Cluster.Peers) == 0 && cfg.Cluster.PeersDNS == "" {
		if !rf.discovery {
			cfg.Cluster.Voters = 1 // a single replica
		} else {
			reg, err := discovery.New(discovery.Config{Brokers: cfg.Brokers, ClientOpts: cfg.KafkaOptions, AppID: cfg.AppID,
				FailureTimeout: rf.failureTimeout, Logger: log.With("app", cfg.AppID, "replica", rf.replicaID)})
			if err != nil {
				return err
			}
			defer reg.Shutdown()
			cfg.Cluster.Discovery = reg
			// Instances started without --replica-id (as Kafka Streams users
			// scale out) still differ in the group.
			cfg.Cluster.UniqueID = !rf.replicaIDSet
		}
	}
	return engine.Run(ctx, prog, cfg)
}

// parseBytes reads sizes like 512MiB, 1GiB, 64MB or a plain number of bytes.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			var n int64
			if _, err := fmt.Sscanf(strings.TrimSuffix(s, u.suffix), "%d", &n); err != nil || n <= 0 {
				return 0, fmt.Errorf("cannot read size %q", s)
			}
			return n * u.mult, nil
		}
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("cannot read size %q", s)
	}
	return n, nil
}

// purgeFlag is --repartition-purge-interval as engine.Config takes it (0: never).
func purgeFlag(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

package engine

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/state/rocks"
	"github.com/gofka/streams/state/snapshot"
)

// BadRecordPolicy says what to do with a record whose key or value cannot be decoded.
type BadRecordPolicy string

const (
	// Fail stops processing with an error naming the record; nothing is committed past it.
	Fail BadRecordPolicy = "fail"
	// Skip logs and counts the record, then goes on.
	Skip BadRecordPolicy = "skip"
	// DeadLetter sends the record to the dead-letter topic, with headers giving the
	// error and where it came from, then goes on.
	DeadLetter BadRecordPolicy = "dead-letter"
)

// MinMemoryWhy explains rocks.MinBudget, the smallest MemoryBudget, to users.
const MinMemoryWhy = "half of it is the process's fixed part (code, threads), and an eighth of the rest RocksDB's memtables, " +
	"256 KiB per task with one store at their 64 KiB floor"

// Config configures one replica of an application.
type Config struct {
	Brokers []string
	// KafkaOptions go to every client the engine makes, after the brokers:
	// TLS and SASL (kafkaconf.Security.Options gives them from flags).
	KafkaOptions   []kgo.Opt
	AppID          string
	StateDir       string
	ReplicaID      string
	CommitInterval time.Duration
	// RepartitionPurgeInterval is how often the records of repartition topics
	// below the committed offsets are deleted (purge.go): 0 gives 30 s,
	// negative never.
	RepartitionPurgeInterval time.Duration
	// ExactlyOnce commits each task's output, changelog writes and input
	// offsets in one Kafka transaction per commit interval, and reads internal
	// topics read_committed (eos.go).
	ExactlyOnce bool
	OnBadRecord BadRecordPolicy
	// DeadLetterTopic defaults to "<app id>-dead-letter".
	DeadLetterTopic string
	// MemoryBudget bounds the whole process: RocksDB's block cache and
	// memtables, the typed caches in front of them and the Kafka clients'
	// buffers take shares of it (SplitMemory, memory.go). The Go heap's share
	// (GOMEMLIMIT) is the process's to set: the binary does, through
	// SetGoMemoryLimit; an application running the engine as a library calls it
	// or sets its own. At least rocks.MinBudget (32 MiB); 0 means 256 MiB.
	MemoryBudget int64
	// CreateTopics lets the engine create missing source and sink topics with
	// DefaultPartitions partitions (the embedded development broker does this).
	CreateTopics      bool
	DefaultPartitions int32
	Logger            *slog.Logger

	// Cluster configures this replica's member of the coordinator group: its
	// addresses, peers, voters, heartbeat and checkpoint timing. The engine fills
	// in the tasks, the data directory and the logger. Zero values give a
	// single-replica group.
	Cluster coordinator.Config
	// Snapshots is where barrier checkpoints go: "file:///path" or
	// "s3://bucket/prefix" (default: file://<state dir>/snapshots). Keys in the
	// store start with the application id, so applications can share one.
	Snapshots        string
	SnapshotsOptions snapshot.Options
	// StatusAddr serves /status, /healthz and /readyz over HTTP ("" for none).
	StatusAddr string
	// StatusAddrFallback serves on a free loopback port when StatusAddr is taken
	// (for the default address: several replicas on one machine).
	StatusAddrFallback bool
	// StatusTLSCert and StatusTLSKey make the status server serve HTTPS
	// (both or neither); StatusTokenFile holds a bearer token it then
	// requires for everything but /healthz and /readyz. All are read at
	// start.
	StatusTLSCert, StatusTLSKey string
	StatusTokenFile             string
}

func (c *Config) validate() error {
	if len(c.Brokers) == 0 {
		return fmt.Errorf("no brokers")
	}
	if c.AppID == "" {
		return fmt.Errorf("no application id")
	}
	if c.StateDir == "" {
		return fmt.Errorf("no state directory")
	}
	switch c.OnBadRecord {
	case "":
		c.OnBadRecord = Fail
	case Fail, Skip, DeadLetter:
	default:
		return fmt.Errorf("bad-record policy must be fail, skip or dead-letter, not %q", c.OnBadRecord)
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = 5 * time.Second
	}
	if c.RepartitionPurgeInterval == 0 {
		c.RepartitionPurgeInterval = purgeInterval
	}
	if c.DeadLetterTopic == "" {
		c.DeadLetterTopic = c.AppID + "-dead-letter"
	}
	if c.ReplicaID == "" {
		c.ReplicaID = "0"
	}
	if c.MemoryBudget <= 0 {
		c.MemoryBudget = 256 << 20
	}
	if c.MemoryBudget < rocks.MinBudget {
		return fmt.Errorf("memory budget %d MiB is below the minimum of %d MiB: %s", c.MemoryBudget>>20, rocks.MinBudget>>20, MinMemoryWhy)
	}
	if c.DefaultPartitions <= 0 {
		c.DefaultPartitions = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Snapshots == "" {
		abs, err := filepath.Abs(filepath.Join(c.StateDir, "snapshots"))
		if err != nil {
			return err
		}
		c.Snapshots = "file://" + abs
	}
	return nil
}

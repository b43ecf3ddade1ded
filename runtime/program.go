package runtime

import (
	"reflect"
	"time"

	"github.com/gofka/streams/state"
)

// Program is a compiled topology: everything a runner needs to execute it.
// Generated code builds one with a Compiled<Topology> function.
type Program struct {
	Name          string // the topology function, e.g. "ClickCount"
	DefaultAppID  string // application id used when none is configured, e.g. "click-count"
	Topics        []TopicSpec
	Stores        []StoreSpec
	SubTopologies []SubTopologySpec
	Description   string // the topology as text (gofkagen describe)
	Mermaid       string // the topology as a Mermaid diagram
	// Globals are the global tables (global.go).
	Globals []GlobalSpec
	// CopartitionGroups are the sets of topics that must have equal partition
	// counts (both inputs of a join): the engine checks them at start-up.
	CopartitionGroups []CopartitionGroup
}

// CopartitionGroup is a set of topics read together by key (ir.CopartitionGroups).
type CopartitionGroup struct {
	Topics []TopicID
	Reason string // what reads them together, as errors name it: "Join#5 at topology.go:30:9"
}

// TopicID indexes Program.Topics; generated code names topics by it.
type TopicID int

// TopicKind says who owns a topic.
type TopicKind uint8

const (
	SourceTopic      TopicKind = iota // an input the user owns
	SinkTopic                         // an output the user owns
	RepartitionTopic                  // internal: written and read back by the program
	ChangelogTopic                    // internal: compacted log of a store's changes
)

var topicKindNames = [...]string{
	SourceTopic:      "source",
	SinkTopic:        "sink",
	RepartitionTopic: "repartition",
	ChangelogTopic:   "changelog",
}

func (k TopicKind) String() string { return topicKindNames[k] }

// Internal reports whether the program owns the topic and derives its name from the
// application id.
func (k TopicKind) Internal() bool { return k == RepartitionTopic || k == ChangelogTopic }

// TopicSpec describes one topic. For internal topics Name is a suffix: the full name
// is "<application id>-<Name>".
type TopicSpec struct {
	Name string
	Kind TopicKind
	// Types are the Go types of the topic's keys and values, as the program decodes
	// or encodes them: what test drivers check the serdes of a test against. They
	// are nil in a Program written by hand, which then says nothing of its types.
	Types RecordTypes
}

// RecordTypes are the Go types of the keys and values of a topic's records.
type RecordTypes struct {
	Key, Value reflect.Type
}

// TypesOf is the RecordTypes of records with keys of type K and values of type V;
// generated code records each topic's with it.
func TypesOf[K, V any]() RecordTypes {
	return RecordTypes{Key: reflect.TypeFor[K](), Value: reflect.TypeFor[V]()}
}

// TopicName is the full name of topic id under application id appID.
func (p *Program) TopicName(appID string, id TopicID) string {
	t := p.Topics[id]
	if t.Kind.Internal() {
		return appID + "-" + t.Name
	}
	return t.Name
}

// TopicByName finds a topic by its full name under appID.
func (p *Program) TopicByName(appID, name string) (TopicID, bool) {
	for i := range p.Topics {
		if p.TopicName(appID, TopicID(i)) == name {
			return TopicID(i), true
		}
	}
	return 0, false
}

// StoreSpec describes one state store.
type StoreSpec struct {
	Name        string
	Changelog   TopicID
	Persistent  bool // RocksDB rather than memory
	SubTopology int
	Kind        StoreKind
	// Retention is how long a windowed store keeps an entry (window size +
	// grace; session gap + grace): its changelog topic keeps records for
	// Retention + WindowChangelogExtraRetention, so expired windows leave it too.
	// Zero for key-value stores and suppression buffers.
	Retention time.Duration
	// Timestamped marks a key-value store whose rows carry their timestamp
	// (state.TimestampedCache): in its backend and changelog a row is the
	// timestamp (8 bytes) then the value serde's bytes.
	Timestamped bool
	// Query serves interactive queries of a key-value store (QueryOf); nil
	// for a store that cannot be queried.
	Query *StoreQuery
}

// StoreKind says what a store holds, and so how its changelog is cleaned up.
type StoreKind uint8

const (
	KeyValueStore  StoreKind = iota // state.Cache: one value per key, forever
	WindowStore                     // state.WindowStore: one value per key and window, expiring
	SessionStore                    // state.SessionStore: one value per key and session, expiring
	SuppressBuffer                  // state.SuppressBuffer: pending emit-final results
)

var storeKindNames = [...]string{
	KeyValueStore:  "key-value",
	WindowStore:    "window",
	SessionStore:   "session",
	SuppressBuffer: "suppress",
}

func (k StoreKind) String() string { return storeKindNames[k] }

// Windowed reports whether the store's entries expire, so its changelog is
// compacted and deleted by time (cleanup.policy=compact,delete).
func (k StoreKind) Windowed() bool { return k == WindowStore || k == SessionStore }

// WindowChangelogExtraRetention is what a windowed store's changelog keeps
// beyond the store's retention, as Kafka Streams'
// windowstore.changelog.additional.retention.ms (default 1 day): records a
// restore still needs are not deleted before the store expires them, even with
// clocks apart.
const WindowChangelogExtraRetention = 24 * time.Hour

// SubTopologySpec describes one sub-topology: a part of the topology connected
// without a repartition topic, run as one task per input partition.
type SubTopologySpec struct {
	ID      int
	Sources []SourceSpec // Process's source argument indexes this
	Sinks   []TopicID    // topics the task may emit to
	Stores  []int        // indexes into Program.Stores, in TaskContext.Stores order
	NewTask func(TaskContext) Task
}

// SourceSpec is one source node: the topics it reads.
type SourceSpec struct {
	Topics []TopicID
	// Watermark is the source's watermark option (streams WithWatermark), or nil.
	Watermark *WatermarkSpec
}

// WatermarkSpec is a bounded out-of-orderness watermark: on each partition, the
// largest timestamp seen minus MaxOutOfOrderness minus 1 ms; a partition
// without a record for IdleTimeout (0: never) stops holding the others back.
type WatermarkSpec struct {
	MaxOutOfOrderness, IdleTimeout time.Duration
}

// TaskContext is what a runner hands a new task.
type TaskContext struct {
	Partition int32
	Out       Emitter
	// Stores holds the backends of the sub-topology's stores, in SubTopologySpec.Stores order.
	Stores []state.Backend
	// CacheEntries bounds each store's typed write-back cache; 0 means state.DefaultCacheEntries.
	CacheEntries int
	// StreamTime is the task's stream time when it last committed (see
	// Task.StreamTime), or NoTimestamp for a task that has seen no record.
	StreamTime int64
	// Late counts the task's late records (windowed aggregations); may be nil.
	Late *LateCounter
	// NullKeys counts the records dropped for a null key before a stateful step
	// or a join; may be nil.
	NullKeys *LateCounter
	// Watermark is the task's watermark when it last committed, or
	// NoTimestamp; it only matters to a WatermarkTask.
	Watermark int64
	// Globals are read-only views of the replica's global tables, in
	// Program.Globals order (GlobalSpec).
	Globals []state.Backend
}

// WatermarkTask is a Task whose operators act on the watermark (windows that
// close by it). A runner calls AdvanceWatermark between batches whenever the
// task's watermark (the smallest over its inputs, streams WithWatermark) moves
// forward; ms only grows.
type WatermarkTask interface {
	Task
	AdvanceWatermark(ms int64) error
}

// NoTimestamp is the stream time of a task that has seen no record yet.
const NoTimestamp int64 = -1

// Task runs one sub-topology on one partition. Generated code implements it.
type Task interface {
	// Process runs the fused operator chain over a batch read by source number source.
	// It stops at the first failing record and returns a *RecordError naming it.
	Process(source int, batch []Record) error
	// Current is the index in the batch of the record being processed; a runner
	// that recovers a panic from Process uses it to name the record.
	Current() int
	// Flush writes the cached state changes to the stores' backends.
	Flush() error
	// StreamTime is the largest timestamp the task has read, counted at its
	// sources before any filter (Kafka Streams' stream time), or NoTimestamp.
	// A runner keeps it with the committed offsets and hands it back in
	// TaskContext.StreamTime when the task starts again, here or elsewhere.
	StreamTime() int64
}

// Emitter receives the records a task produces. key and value are valid only during
// the call (the task reuses its buffers, or lends a view of a decoded value) and
// must not be modified: an Emitter copies what it keeps. timestamp (milliseconds
// since the Unix epoch) is the record's: the input record's, as Kafka Streams
// gives it, for a record derived from one.
type Emitter interface {
	Emit(topic TopicID, key, value []byte, timestamp int64)
}

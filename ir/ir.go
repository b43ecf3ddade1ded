package ir

import (
	"fmt"
	"go/token"
	"go/types"
	"time"
)

// Op is the kind of a node.
type Op uint8

const (
	OpSource        Op = iota // reads topics (or a repartition topic), decodes key and value; Fns[0](k, v) -> time.Time, if any, is the record's timestamp
	OpTable                   // reads a topic as a table into a store, then emits the upserts; Fns[0] as for OpSource
	OpFilter                  // keeps records for which Fns[0] holds
	OpFilterNot               // drops records for which Fns[0] holds
	OpMap                     // Fns[0](k, v) -> (k2, v2)
	OpMapValues               // Fns[0](v) or (k, v) -> v2
	OpFlatMap                 // Fns[0](k, v) -> []KeyValue[k2, v2]
	OpFlatMapValues           // Fns[0](v) or (k, v) -> []v2
	OpSelectKey               // Fns[0](k, v) -> k2
	OpPeek                    // Fns[0](k, v), record passes unchanged
	OpBranch                  // output i carries records for which Fns[i] is the first to hold
	OpMerge                   // the union of its inputs
	OpRepartition             // writes to an internal topic partitioned by key (cut by Split)
	OpGroup                   // marks a grouped stream; the next node aggregates it
	OpCount                   // counts per key into Store
	OpReduce                  // Fns[0](agg, v) -> agg per key into Store
	OpAggregate               // Fns[0]() -> agg; Fns[1](k, v, agg) -> agg per key into Store
	OpToStream                // turns a table's updates into a stream
	OpSuppress                // holds back a table's updates as Suppress says (ir/window.go)
	OpProcess                 // Fns[0](ctx, k, v, stores...) forwards records; Proc has its timers and stores
	OpSink                    // encodes and writes to a topic
	// Table operators (ir/table.go): their records are changes (new and old value).
	OpToTable         // a stream's records upserted into Store, a record without a value deleting its key
	OpTableFilter     // a row for which Fns[0](k, v) fails becomes a delete
	OpTableFilterNot  // a row for which Fns[0](k, v) holds becomes a delete
	OpTableMapValues  // Fns[0](v) or (k, v) -> v2 on new and old values
	OpTableGroupBy    // Fns[0](k, v) -> (k2, v2); feeds a Repartition carrying changes
	OpTableCount      // counts rows per group into Store, adding new rows and subtracting old ones
	OpTableReduce     // Fns[0](agg, v) adds, Fns[1](agg, v) subtracts, per group into Store
	OpTableAggregate  // Fns[0]() -> agg; Fns[1](k, v, agg) adds, Fns[2](k, v, agg) subtracts
	OpStreamTableJoin // Inputs[0] a stream, Inputs[1] a materialized table: Fns[0](v, vt) or (k, v, vt)
	OpTableJoin       // two materialized tables, TableJoin.Kind inner, left or outer: Fns[0](v1, v2) or (k, v1, v2)
	OpJoin            // joins Inputs[0] (left) with Inputs[1] (right) by key; Fns[0] is the joiner; Join says how (ir/join.go)
	OpJoinGlobal      // Fns[0](k, v) -> kg; Fns[1](v, vg) or (k, v, vg) -> vr with the row of Global; no row: dropped (ir/global.go)
	OpLeftGlobal      // LeftJoinGlobal: as OpJoinGlobal, but no row gives Fns[1] a nil *vg
	OpFKSubscribe     // foreign-key join, left table's side: Fns[0](v) or (k, v) -> fk; subscriptions to a Repartition (ir/fkjoin.go)
	OpFKRespond       // foreign-key join, right table's side: Inputs[0] subscriptions, Inputs[1] the right table; responses to a Repartition
	OpFKResolve       // foreign-key join result: Inputs[0] responses, Inputs[1] the left table; Fns[0](v, vo) or (k, v, vo) -> vr
	numOps
)

var opNames = [...]string{
	OpSource:        "Source",
	OpTable:         "Table",
	OpFilter:        "Filter",
	OpFilterNot:     "FilterNot",
	OpMap:           "Map",
	OpMapValues:     "MapValues",
	OpFlatMap:       "FlatMap",
	OpFlatMapValues: "FlatMapValues",
	OpSelectKey:     "SelectKey",
	OpPeek:          "Peek",
	OpBranch:        "Branch",
	OpMerge:         "Merge",
	OpRepartition:   "Repartition",
	OpGroup:         "Group",
	OpCount:         "Count",
	OpReduce:        "Reduce",
	OpAggregate:     "Aggregate",
	OpToStream:      "ToStream",
	OpSuppress:      "Suppress",
	OpProcess:       "Process",
	OpSink:          "Sink",

	OpToTable:         "ToTable",
	OpTableFilter:     "TableFilter",
	OpTableFilterNot:  "TableFilterNot",
	OpTableMapValues:  "TableMapValues",
	OpTableGroupBy:    "TableGroupBy",
	OpTableCount:      "TableCount",
	OpTableReduce:     "TableReduce",
	OpTableAggregate:  "TableAggregate",
	OpStreamTableJoin: "StreamTableJoin",
	OpTableJoin:       "TableJoin",
	OpJoin:            "Join",
	OpJoinGlobal:      "JoinGlobal",
	OpLeftGlobal:      "LeftJoinGlobal",
	OpFKSubscribe:     "ForeignKeySubscribe",
	OpFKRespond:       "ForeignKeyRespond",
	OpFKResolve:       "ForeignKeyResolve",
}

func (op Op) String() string {
	if op < numOps {
		return opNames[op]
	}
	return fmt.Sprintf("Op(%d)", op)
}

// Stateful reports whether the op keeps a store.
func (op Op) Stateful() bool {
	return op == OpTable || op == OpCount || op == OpReduce || op == OpAggregate || op.tableStateful()
}

// Terminal reports whether a node of this op needs no consumer.
func (op Op) Terminal() bool { return op == OpSink || op.Stateful() }

// Watermark is a source's bounded out-of-orderness watermark: per partition,
// the largest timestamp seen minus MaxOutOfOrderness; a partition without a
// record for IdleTimeout (0: never) stops holding the others back.
type Watermark struct {
	MaxOutOfOrderness, IdleTimeout time.Duration
}

// Port is one output of a node: Index 0, or the branch number of a Branch.
type Port struct {
	Node  *Node
	Index int
}

// Node is one operator.
type Node struct {
	ID     int
	Op     Op
	Pos    token.Position // the DSL call that made the node
	Inputs []Port
	// Key and Value are the types of the records the node emits.
	Key, Value types.Type
	// KeyChanged reports that the key may differ from the one the input topic was
	// partitioned by, so a grouping must repartition.
	KeyChanged bool
	// Fns are the user functions the node calls, in the order given in Op's comment.
	Fns []*Func
	// SeedAdder marks the seed API's Aggregate, whose adder is func(agg, value).
	SeedAdder bool
	// Watermark is a source's watermark option (WithWatermark), if any.
	Watermark *Watermark
	// Topics are read (Source, Table) or written (Sink, Repartition: one topic).
	Topics []*Topic
	// Store is the state store of a stateful node.
	Store *Store
	// Proc is what a Process node runs, with its stores (AllStores).
	Proc *Processor
	// KeySerde and ValueSerde encode or decode at a byte boundary: Source, Table,
	// Sink, Repartition, and Group (for the repartition it may need).
	KeySerde, ValueSerde *Serde
	// RepartitionName is the Named option of a Repartition or Group, if any.
	RepartitionName string
	// Window is set on a windowed Count, Reduce or Aggregate; Topics then holds
	// the topic late records go to, if any. Suppress is set on OpSuppress.
	Window   *Window
	Suppress *Suppression
	// Join is set on OpJoin: its kind, window and stores (ir/join.go).
	Join *Join
	// Global is the global table a JoinGlobal or LeftJoinGlobal reads.
	Global *Global
	// SubTopology is set by Split.
	SubTopology int
	// TableJoin is set on StreamTableJoin and TableJoin. Changes marks a
	// Repartition, and the Source reading it back, whose records are table
	// changes (ir/table.go).
	TableJoin *TableJoin
	Changes   bool
	// FKJoin is set on the three nodes of a foreign-key join (ir/fkjoin.go).
	FKJoin *FKJoin
}

func (n *Node) String() string { return fmt.Sprintf("%s#%d", n.Op, n.ID) }

// TopicKind says who owns a topic.
type TopicKind uint8

const (
	ExternalTopic    TopicKind = iota // named by the user
	RepartitionTopic                  // internal, named by Name
	ChangelogTopic                    // internal, named by Name
)

// Topic is a topic the topology touches. Internal topics have a name suffix; the
// full name is "<application id>-<Name>".
type Topic struct {
	Name string
	Kind TopicKind
}

// FullName is the topic's name under application id appID.
func (t *Topic) FullName(appID string) string {
	if t.Kind == ExternalTopic {
		return t.Name
	}
	return appID + "-" + t.Name
}

// Store is a state store.
type Store struct {
	Name       string
	Pos        token.Position
	Persistent bool // RocksDB rather than memory
	Key, Value types.Type
	KeySerde   *Serde
	ValueSerde *Serde
	Changelog  *Topic
	Node       *Node
	// Timestamped stores keep each row's timestamp beside it
	// (state.TimestampedCache): the tables a table-table join reads, and the
	// right table of a foreign-key join, whose results take the later of the
	// two rows' timestamps, as in Kafka Streams.
	Timestamped bool
}

// Func is a user function called by a node.
type Func struct {
	Pos     token.Position
	Display string // how errors and descriptions name it: "isRealClick", "func literal at x.go:3:9"
	Sig     *types.Signature
	// Code calls the function: a name, a qualified name, a method expression, or
	// (when Literal) the whole function literal, which codegen declares as a
	// package-level function.
	Code    Code
	Literal bool
}

// Serde encodes or decodes one side of a record at a byte boundary.
type Serde struct {
	Type types.Type
	// Builtin names a serde type of the streams package used by default for Type,
	// e.g. "StringSerde"; codegen instantiates it as streams.StringSerde[Type]{}.
	Builtin string
	// Code is the user's serde expression when Builtin is empty.
	Code Code
	// Variable reports that Code names a package-level variable, which the
	// generated code then uses directly rather than copying at initialisation.
	Variable bool
	// SerdeType is the type of Code's value, which a windowed serde wrapping this
	// one names as a type argument.
	SerdeType types.Type
	// Inner and WindowSize are set on the windowed key serdes (Builtin
	// "TimeWindowedSerde" or "SessionWindowedSerde"): the plain key's serde, and
	// the window size that rebuilds a time window's End when decoding.
	Inner      *Serde
	WindowSize time.Duration
}

// Code is Go source text in which references to other packages are kept apart, so
// codegen can import them under names of its own choosing.
type Code []Fragment

// Fragment is raw text, or (when Pkg is set) the qualified identifier Pkg.Name.
type Fragment struct {
	Text string
	Pkg  string
	Name string
}

// String renders the code with package names as the last path element.
func (c Code) String() string {
	s := ""
	for _, f := range c {
		if f.Pkg != "" {
			s += pkgName(f.Pkg) + "." + f.Name
		} else {
			s += f.Text
		}
	}
	return s
}

func pkgName(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}

// Form is the shape of a topology function.
type Form uint8

const (
	FormBuild   Form = iota // func() (*streams.Topology, error), returning builder.Build()
	FormBuilder             // func(*streams.StreamsBuilder)
)

// Graph is one topology.
type Graph struct {
	Name         string // the topology function's name
	Pos          token.Position
	Form         Form
	DefaultAppID string
	Nodes        []*Node // in creation order; IDs are indexes
	Stores       []*Store
	Schemas      []SchemaUse // serdes that write to a schema registry
	Globals      []*Global   // global tables, read whole by every replica (ir/global.go)
	// Set by passes.
	SubTopologies []*SubTopology
}

// SubTopology is a connected part of the graph between repartition topics.
type SubTopology struct {
	ID    int
	Nodes []*Node // in ID order
	// Segments are the fused straight-line pieces, entries first: one per source
	// node (a loop over the batch), then one per merge node (a method).
	Segments []*Node
	Stores   []*Store
}

// Sources are the sub-topology's entry nodes, in the order Process numbers them.
func (s *SubTopology) Sources() []*Node {
	var out []*Node
	for _, n := range s.Segments {
		if n.Op == OpSource || n.Op == OpTable {
			out = append(out, n)
		}
	}
	return out
}

// NewNode appends a node to the graph.
func (g *Graph) NewNode(op Op, pos token.Position, inputs ...Port) *Node {
	n := &Node{ID: len(g.Nodes), Op: op, Pos: pos, Inputs: inputs}
	g.Nodes = append(g.Nodes, n)
	return n
}

// Consumers returns the nodes reading port p of n, in ID order.
func (g *Graph) Consumers(n *Node, port int) []*Node {
	var out []*Node
	for _, c := range g.Nodes {
		for _, in := range c.Inputs {
			if in.Node == n && in.Index == port {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Outputs is the number of ports a node has.
func (n *Node) Outputs() int {
	if n.Op == OpBranch {
		return len(n.Fns)
	}
	return 1
}

// Error is a problem with a position, printed as file:line:col: message.
type Error struct {
	Pos token.Position
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

// Errorf makes an *Error.
func Errorf(pos token.Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

package runtime

// GlobalSpec describes a global table (streams.GlobalTable): every replica reads
// every partition of its topic into a local store before any task processes,
// and keeps applying new records while it runs. Its topic is in no
// sub-topology, so no task is assigned it; it is the store's changelog.
//
// Tasks read the store through TaskContext.Globals (in Program.Globals order):
// a read-only state.Backend whose Get copies the value into the view's own
// buffer, so a runner may apply the topic's records from another goroutine.
type GlobalSpec struct {
	Name       string  // the store's name
	Topic      TopicID // a SourceTopic, read whole
	Persistent bool    // RocksDB in the state directory rather than memory
}

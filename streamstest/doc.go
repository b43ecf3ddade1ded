// Package streamstest runs a compiled topology in process, with no broker, for unit
// tests: the Gofka counterpart of Kafka Streams' TopologyTestDriver.
//
// A Driver takes the *runtime.Program that gofkagen generates (the Compiled<Topology>
// function of the generated file) and executes its tasks synchronously. Each record
// piped to an input topic is processed to completion before the pipe call returns:
// it runs through the sub-topologies that read it, records written to repartition
// topics are read back and processed in the order they were produced, and then every
// task is flushed as at a commit, so output topics, state stores and changelog topics
// all reflect the record. Nothing runs in the background, so a test sees the same
// result on every run.
//
// Every topic has the same number of partitions (WithPartitions, default 1), and the
// driver routes keyed records with runtime.Partition, Kafka's default partitioner,
// so a test with several partitions shows how keys meet in tasks as they would on a
// cluster.
//
// A test for a topology ClickCount that counts clicks per user:
//
//	func TestClickCount(t *testing.T) {
//		d := streamstest.NewDriver(CompiledClickCount(), streamstest.WithPartitions(4))
//		defer d.Close()
//		clicks := streamstest.Input(d, "user-clicks", streams.String(), streams.JSON[Click]())
//		counts := streamstest.Output(d, "user-click-counts", streams.String(), streams.Int64())
//
//		for _, c := range []Click{{User: "ann", Real: true}, {User: "bob", Real: true}, {User: "ann", Real: true}} {
//			if err := clicks.Pipe("page-1", c); err != nil {
//				t.Fatal(err)
//			}
//		}
//
//		got, err := counts.ReadKeyValues()
//		if err != nil {
//			t.Fatal(err)
//		}
//		want := []streams.KeyValue[string, int64]{{Key: "ann", Value: 1}, {Key: "bob", Value: 1}, {Key: "ann", Value: 2}}
//		if !slices.Equal(got, want) {
//			t.Errorf("counts = %v, want %v", got, want)
//		}
//
//		store := streamstest.Store(d, "click-counts", streams.String(), streams.Int64())
//		if n, ok, err := store.Get("ann"); err != nil || !ok || n != 2 {
//			t.Errorf("store[ann] = %d, %v, %v; want 2", n, ok, err)
//		}
//	}
//
// A Driver is not safe for concurrent use.
package streamstest

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
// Two clocks drive time, both only when the test moves them: record time (each
// piped record's timestamp: Now, AdvanceTime, PipeRawAt), which moves stream
// time and so closes windows and fires stream-time timers and punctuators; and
// the wall clock (WallClockTime, AdvanceWallClockTime), which fires wall-clock
// punctuators and processing-time timers, as the engine's wall clock does.
//
// Every topic has the same number of partitions (WithPartitions, default 1), and the
// driver routes keyed records with runtime.Partition, Kafka's default partitioner,
// so a test with several partitions shows how keys meet in tasks as they would on a
// cluster.
//
// A global table (streams.GlobalTable) is one table shared by every task, as on a
// replica: a record piped to its topic (or written there by a sink) updates it at
// once, before the next pipe, and emits nothing; a nil value deletes the key
// (GlobalLen counts its rows).
//
// Mistakes in a test fail loudly rather than read nothing or raw bits: piping to a
// topic no source reads, reading a topic the topology never writes, or a store it
// does not have, is an error naming the topics or stores there are; and so are
// serdes for other key or value types than the generated program records for the
// topic or store (Driver.ReadRaw and RawStore read bytes on purpose).
//
// A test of examples/clickcount, whose topology ClickCount counts the real (not bot)
// clicks of each user into the store click-counts and the topic user-click-counts:
//
//	func TestCountsPerUser(t *testing.T) {
//		d := streamstest.NewDriver(CompiledClickCount(), streamstest.WithPartitions(4))
//		defer d.Close()
//		clicks := streamstest.Input(d, "user-clicks", streams.String(), streams.JSON[Click]())
//		counts := streamstest.Output(d, "user-click-counts", streams.String(), streams.Int64())
//
//		for i, c := range []Click{{User: "ann"}, {User: "bob"}, {User: "crawler", Bot: true}, {User: "ann"}} {
//			if err := clicks.Pipe(fmt.Sprintf("click-%d", i), c); err != nil {
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

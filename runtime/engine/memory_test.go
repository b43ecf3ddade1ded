package engine

import (
	"fmt"
	"runtime/debug"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams/runtime/kafkaconf"
)

// TestSplitMemory checks the shares of a whole-process budget: each is the
// fraction the flag's help and the README give, and together with the reserve
// they are the budget.
func TestSplitMemory(t *testing.T) {
	// 128 MiB: 48 MiB fixed, R = 80 MiB: 3/16 block cache, 1/8 memtables,
	// typed caches and Kafka each, 9/16 the Go limit.
	const total = 128 << 20
	s := SplitMemory(total)
	want := MemorySplit{Total: total, TypedCaches: 10 << 20, Kafka: 10 << 20, GoLimit: 45 << 20}
	want.Rocks.BlockCache, want.Rocks.WriteBuffers = 15<<20, 10<<20
	if s != want {
		t.Fatalf("SplitMemory(128 MiB) = %+v, want %+v", s, want)
	}
	// The Go limit holds the typed caches and Kafka buffers; RocksDB's pools are
	// outside it; what is left past the fixed part is the reserve, R/8.
	if reserve := total - 48<<20 - s.GoLimit - s.Rocks.BlockCache - s.Rocks.WriteBuffers; reserve != 10<<20 {
		t.Errorf("reserve = %d MiB, want 10 MiB", reserve>>20)
	}
	if s.TypedCaches+s.Kafka > s.GoLimit {
		t.Errorf("typed caches %d + Kafka %d exceed the Go limit %d", s.TypedCaches, s.Kafka, s.GoLimit)
	}
}

// TestKafkaLimits builds real franz-go clients from the options the budget
// gives, read them back from the clients, and checks the engine puts them
// before the user's options, so that a user's own setting wins.
func TestKafkaLimits(t *testing.T) {
	for _, c := range []struct {
		name                        string
		total                       int64
		producers                   int
		fetch, part, read, buffered int64
		records                     int64
	}{
		// Kafka share R/8 = 10 MiB: fetch 1/32 of it, a partition 1/4 of a
		// fetch, reads at least 4 MiB, producers half the share.
		// Records: the produce half over 256 bytes a record, at most franz-go's
		// default 50,000, at least 1,024 per producer.
		{"128MiB", 128 << 20, 1, 320 << 10, 80 << 10, 4 << 20, 5 << 20, 20480},
		// R = 976 MiB, share 122 MiB: fetch 3904 KiB, partition 976 KiB.
		{"1GiB", 1 << 30, 1, 3904 << 10, 976 << 10, 7808 << 10, 61 << 20, 50000},
		{"32MiB floors", 32 << 20, 1, 256 << 10, 64 << 10, 4 << 20, 1 << 20, 4096},
		{"32MiB, 16 producers: the records floor", 32 << 20, 16, 256 << 10, 64 << 10, 4 << 20, 1 << 20, 1024},
		// Exactly-once: 16 producers share the records as the bytes (5 MiB / 16
		// / 256 B), their bytes floored at a batch.
		{"exactly-once, 16 producers", 128 << 20, 16, 320 << 10, 80 << 10, 4 << 20, 1 << 20, 1280},
		{"exactly-once, 256MiB, 16 producers", 256 << 20, 16, 832 << 10, 208 << 10, 4 << 20, 1 << 20, 3328},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, err := kgo.NewClient(SplitMemory(c.total).KafkaLimits(c.producers)...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			got := map[string]int64{
				"FetchMaxBytes":          asInt64(cl.OptValue(kgo.FetchMaxBytes)),
				"FetchMaxPartitionBytes": asInt64(cl.OptValue(kgo.FetchMaxPartitionBytes)),
				"BrokerMaxReadBytes":     asInt64(cl.OptValue(kgo.BrokerMaxReadBytes)),
				"MaxBufferedBytes":       asInt64(cl.OptValue(kgo.MaxBufferedBytes)),
				"MaxConcurrentFetches":   asInt64(cl.OptValue(kgo.MaxConcurrentFetches)),
				"MaxBufferedRecords":     asInt64(cl.OptValue(kgo.MaxBufferedRecords)),
			}
			want := map[string]int64{"FetchMaxBytes": c.fetch, "FetchMaxPartitionBytes": c.part, "BrokerMaxReadBytes": c.read,
				"MaxBufferedBytes": c.buffered, "MaxConcurrentFetches": concurrentFetches, "MaxBufferedRecords": c.records}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s = %d, want %d", k, got[k], w)
				}
			}
		})
	}

	e := &Engine{memory: SplitMemory(128 << 20), log: quietLogger(), watch: kafkaconf.NewWatch(nil), cfg: Config{Brokers: []string{"127.0.0.1:1"},
		KafkaOptions: []kgo.Opt{kgo.FetchMaxBytes(50 << 20), kgo.BrokerMaxReadBytes(100 << 20)}}}
	cl, err := kgo.NewClient(e.clientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if got := asInt64(cl.OptValue(kgo.FetchMaxBytes)); got != 50<<20 {
		t.Errorf("with the user's FetchMaxBytes(50 MiB) the client has %d", got)
	}
	if got := asInt64(cl.OptValue(kgo.MaxBufferedBytes)); got != 5<<20 {
		t.Errorf("the engine's client has MaxBufferedBytes %d, want the budget's 5 MiB", got)
	}
}

// TestSetGoMemoryLimit checks the binary's Go heap limit: the budget's share,
// unless GOMEMLIMIT is set, which then stays in force.
func TestSetGoMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	s := SplitMemory(256 << 20)
	t.Setenv("GOMEMLIMIT", "")
	if got := SetGoMemoryLimit(s, quietLogger()); got != s.GoLimit || debug.SetMemoryLimit(-1) != s.GoLimit {
		t.Fatalf("SetGoMemoryLimit = %d, runtime limit %d; want %d", got, debug.SetMemoryLimit(-1), s.GoLimit)
	}
	debug.SetMemoryLimit(300 << 20) // as the runtime does at start from GOMEMLIMIT=300MiB
	t.Setenv("GOMEMLIMIT", "300MiB")
	if got := SetGoMemoryLimit(s, quietLogger()); got != 300<<20 || debug.SetMemoryLimit(-1) != 300<<20 {
		t.Fatalf("with GOMEMLIMIT set: SetGoMemoryLimit = %d, runtime limit %d; want 300 MiB kept", got, debug.SetMemoryLimit(-1))
	}
}

// asInt64 is an integer option's value, whatever its width.
func asInt64(v any) int64 {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	}
	panic(fmt.Sprintf("not an integer option: %T", v))
}

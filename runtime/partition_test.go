package runtime

import (
	"fmt"
	"testing"
)

// The vectors of Apache Kafka's UtilsTest.testMurmur2
// (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
var kafkaMurmur2Vectors = []struct {
	in   string
	want int32
}{
	{"21", -973932308},
	{"foobar", -790332482},
	{"a-little-bit-long-string", -985981536},
	{"a-little-bit-longer-string", -1486304829},
	{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
	{"abc", 479470107},
}

func TestMurmur2KafkaVectors(t *testing.T) {
	for _, c := range kafkaMurmur2Vectors {
		if got := Murmur2([]byte(c.in)); got != c.want {
			t.Errorf("Murmur2(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestMurmur2EmptyAndNil(t *testing.T) {
	// With no data the hash is the finalizer applied to seed ^ 0.
	if a, b := Murmur2(nil), Murmur2([]byte{}); a != b {
		t.Errorf("Murmur2(nil) = %d, Murmur2([]byte{}) = %d; want equal", a, b)
	}
}

func TestPartitionMatchesKafkaFormula(t *testing.T) {
	for _, c := range kafkaMurmur2Vectors {
		for _, n := range []int32{1, 2, 3, 4, 7, 12, 100} {
			// Java: Utils.toPositive(murmur2(key)) % numPartitions, in int arithmetic.
			want := (c.want & 0x7fffffff) % n
			if got := Partition([]byte(c.in), n); got != want {
				t.Errorf("Partition(%q, %d) = %d, want %d", c.in, n, got, want)
			}
		}
	}
	// Hand-checked: toPositive(-973932308) = 1173551340; 1173551340 % 4 = 0, % 7 = 3.
	if got := Partition([]byte("21"), 4); got != 0 {
		t.Errorf("Partition(\"21\", 4) = %d, want 0", got)
	}
	if got := Partition([]byte("21"), 7); got != 3 {
		t.Errorf("Partition(\"21\", 7) = %d, want 3", got)
	}
}

func TestPartitionInRangeAndSpread(t *testing.T) {
	const n = 8
	var seen [n]int
	for i := 0; i < 4000; i++ {
		p := Partition(fmt.Appendf(nil, "key-%d", i), n)
		if p < 0 || p >= n {
			t.Fatalf("Partition out of range: %d", p)
		}
		seen[p]++
	}
	for p, c := range seen {
		if c < 300 { // expected 500 each
			t.Errorf("partition %d got only %d of 4000 keys: %v", p, c, seen)
		}
	}
}

func TestPartitionAllocatesNothing(t *testing.T) {
	key := []byte("a-little-bit-longer-string")
	if a := testing.AllocsPerRun(100, func() { Partition(key, 12) }); a != 0 {
		t.Errorf("Partition allocates %v times, want 0", a)
	}
}

func BenchmarkMurmur2(b *testing.B) {
	key := []byte("user-0123456789")
	b.SetBytes(int64(len(key)))
	for b.Loop() {
		Murmur2(key)
	}
}

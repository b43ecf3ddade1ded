package operators

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"

	"github.com/gofka/streams/runtime"
)

// Shape of the generated input.
const (
	// NumRecords is how many records every benchmark iteration processes.
	NumRecords = 1_000_000
	// BatchSize is how many records a runner hands a task at once.
	BatchSize = 500
	// InputSeed seeds the deterministic input.
	InputSeed = 20240611
)

var (
	firstNames = []string{
		"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
		"mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe",
	}
	paths = []string{"/home", "/search", "/cart", "/checkout", "/product/42", "/help", "/about", "/login"}
)

// numUsers is the number of user names the input draws from: each of firstNames
// with a number below 500, so about 10,000 distinct users appear in 1,000,000 records.
const numUsers = 20 * 500

// GenerateClicks returns n records of topic user-clicks with nil keys and values
// like "alice17,/home" (a user's click) or "bot:crawler3,/x" (a crawler's, 10% of
// them). It is deterministic for a given seed. All values share one backing array,
// as a fetched batch of a Kafka client would.
func GenerateClicks(n int, seed uint64) []runtime.Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	arena := make([]byte, 0, n*24)
	type span struct{ start, end int }
	spans := make([]span, n)
	for i := range spans {
		start := len(arena)
		if rng.IntN(10) == 0 {
			arena = append(arena, "bot:crawler"...)
			arena = strconv.AppendInt(arena, int64(rng.IntN(100)), 10)
			arena = append(arena, ",/x"...)
		} else {
			u := rng.IntN(numUsers)
			arena = append(arena, firstNames[u%len(firstNames)]...)
			arena = strconv.AppendInt(arena, int64(u/len(firstNames)), 10)
			arena = append(arena, ',')
			arena = append(arena, paths[rng.IntN(len(paths))]...)
		}
		spans[i] = span{start, len(arena)}
	}
	recs := make([]runtime.Record, n)
	for i, s := range spans {
		recs[i] = runtime.Record{
			Topic:     "user-clicks",
			Offset:    int64(i),
			Timestamp: 1_700_000_000_000 + int64(i),
			Value:     arena[s.start:s.end:s.end],
		}
	}
	return recs
}

// decodeCounts turns a store of 8-byte big-endian counts into numbers.
func decodeCounts(m map[string][]byte) map[string]uint64 {
	counts := make(map[string]uint64, len(m))
	for k, v := range m {
		counts[k] = binary.BigEndian.Uint64(v)
	}
	return counts
}

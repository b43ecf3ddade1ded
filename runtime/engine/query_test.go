package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

type queryPoint struct {
	X int    `json:"x"`
	S string `json:"s,omitempty"`
}

func TestKeyTextAndJSON(t *testing.T) {
	ss, is, js := streams.StringSerde[string]{}, streams.IntSerde[int64]{}, streams.JSON[queryPoint]()
	strQ := runtime.QueryOf[string, queryPoint](ss.Encode, ss.Decode, js.Decode)
	intQ := runtime.QueryOf[int64, string](is.Encode, is.Decode, ss.Decode)

	key, err := strQ.KeyFromText("a b/c")
	if err != nil || string(key) != "a b/c" {
		t.Errorf("string key: %q %v", key, err)
	}
	val, _ := js.Encode(nil, queryPoint{X: 3, S: "é\"x"})
	en, err := toEntry(strQ, key, val)
	if err != nil {
		t.Fatal(err)
	}
	wantV, _ := json.Marshal(queryPoint{X: 3, S: "é\"x"})
	if string(en.Key) != `"a b/c"` || string(en.Value) != string(wantV) {
		t.Errorf("entry %s %s, want \"a b/c\" %s", en.Key, en.Value, wantV)
	}

	for _, n := range []int64{0, -1, 42, 1 << 62, -1 << 63} {
		key, err := intQ.KeyFromText(fmt.Sprint(n))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := is.Encode(nil, n)
		if !bytes.Equal(key, want) {
			t.Errorf("int key %d: %x, want %x", n, key, want)
		}
		v, _ := ss.Encode(nil, "v")
		en, err := toEntry(intQ, key, v)
		if err != nil || string(en.Key) != fmt.Sprint(n) || string(en.Value) != `"v"` {
			t.Errorf("int key %d: entry %s %s %v", n, en.Key, en.Value, err)
		}
	}
	for _, bad := range []string{"", "1.5", "x", "99999999999999999999"} {
		if _, err := intQ.KeyFromText(bad); err == nil {
			t.Errorf("int key %q: no error", bad)
		}
	}
	if k, err := runtime.ParseKeyText[queryPoint](`{"x":7}`); err != nil || k.X != 7 {
		t.Errorf("struct key: %+v %v", k, err)
	}
	if k, err := runtime.ParseKeyText[uint8]("255"); err != nil || k != 255 {
		t.Errorf("uint8 key: %v %v", k, err)
	}
}

// A timestamped store's row reads as its value: the timestamp in front is
// not part of the JSON.
func TestTimestampedValueJSON(t *testing.T) {
	ss, js := streams.StringSerde[string]{}, streams.JSON[queryPoint]()
	q := runtime.TimestampedQueryOf[string, queryPoint](ss.Encode, ss.Decode, js.Decode)
	b := state.NewMemoryBackend()
	c := state.NewTimestampedCache(b, js.Encode, js.Decode, 0)
	if err := c.Put([]byte("k"), queryPoint{X: 5, S: "s"}, 1234); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	raw, _, _ := b.Get([]byte("k"))
	en, err := toEntry(q, []byte("k"), raw)
	if err != nil || string(en.Value) != `{"x":5,"s":"s"}` {
		t.Errorf("entry %s %s %v, want {\"x\":5,\"s\":\"s\"}", en.Key, en.Value, err)
	}
	if _, err := toEntry(q, []byte("k"), []byte("{}")); err == nil {
		t.Error("a row shorter than its timestamp: no error")
	}
}

func TestScanParams(t *testing.T) {
	q, err := scanParams(url.Values{"from": {"a"}, "to": {"c"}, "limit": {"5"}}, rawKey)
	if err != nil || string(q.from) != "a" || string(q.to) != "c\x00" || q.limit != 5 {
		t.Errorf("from/to: %+v %v", q, err)
	}
	q, err = scanParams(url.Values{"prefix": {"ab\xff"}}, rawKey)
	if err != nil || string(q.from) != "ab\xff" || string(q.to) != "ac" || q.limit != 100 {
		t.Errorf("prefix: %q %q %v", q.from, q.to, err)
	}
	if q, _ := scanParams(url.Values{"prefix": {"\xff\xff"}}, rawKey); q.to != nil {
		t.Errorf("prefix of 0xff bytes: to %q, want none", q.to)
	}
	q, err = scanParams(url.Values{"from": {"a"}, "next": {encodeToken([]byte("b"))}}, rawKey)
	if err != nil || string(q.from) != "b\x00" {
		t.Errorf("next: from %q %v", q.from, err)
	}
	for _, bad := range []url.Values{{"limit": {"0"}}, {"limit": {"x"}}, {"prefix": {"a"}, "from": {"a"}}, {"next": {"!!"}}} {
		if _, err := scanParams(bad, rawKey); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestScanPagesEqualBruteForce pages through stores split over partitions as
// a scan does (scanStore per partition, mergePage) and compares with a sorted
// list of every key.
func TestScanPagesEqualBruteForce(t *testing.T) {
	ss, is := streams.StringSerde[string]{}, streams.IntSerde[int64]{}
	sq := runtime.QueryOf[string, int64](ss.Encode, ss.Decode, is.Decode)
	rng := rand.New(rand.NewPCG(1, 2))
	parts := make([]*state.MemoryBackend, 4)
	for i := range parts {
		parts[i] = state.NewMemoryBackend()
	}
	var all []string
	for i := range 500 {
		k := fmt.Sprintf("k%03d-%d", rng.IntN(1000), i)
		v, _ := is.Encode(nil, int64(i))
		parts[runtime.Partition([]byte(k), 4)].Put([]byte(k), v)
		all = append(all, k)
	}
	slices.Sort(all)
	for _, tc := range []url.Values{{"limit": {"7"}}, {"limit": {"1"}}, {"prefix": {"k01"}, "limit": {"3"}}, {"from": {"k2"}, "to": {"k400-"}, "limit": {"50"}}} {
		var want []string
		for _, k := range all {
			switch {
			case tc.Has("prefix") && !strings.HasPrefix(k, tc.Get("prefix")):
			case tc.Has("from") && (k < tc.Get("from") || k > tc.Get("to")):
			default:
				want = append(want, k)
			}
		}
		var got []string
		for {
			q, err := scanParams(tc, rawKey)
			if err != nil {
				t.Fatal(err)
			}
			var merged []queryEntry
			more := false
			for _, b := range parts {
				es, m, err := scanStore(b, sq, q)
				if err != nil {
					t.Fatal(err)
				}
				merged, more = append(merged, es...), more || m
			}
			page := mergePage(merged, q.limit, more)
			for _, en := range page.Entries {
				var k string
				json.Unmarshal(en.Key, &k)
				got = append(got, k)
			}
			if page.Next == "" {
				break
			}
			tc.Set("next", page.Next)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: %d keys %v…, want %d", tc, len(got), got[:min(5, len(got))], len(want))
		}
	}
}

func rawKey(s string) ([]byte, error) { return []byte(s), nil }

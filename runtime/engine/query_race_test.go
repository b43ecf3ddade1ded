package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gofka/streams"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/state"
)

// queryCountTask counts records per key in a typed cache over a RocksDB store.
type queryCountTask struct {
	counts  *state.Cache[int64]
	current int
}

func (t *queryCountTask) Current() int      { return t.current }
func (t *queryCountTask) Flush() error      { return t.counts.Flush() }
func (t *queryCountTask) StreamTime() int64 { return runtime.NoTimestamp }
func (t *queryCountTask) Process(source int, batch []runtime.Record) error {
	for i := range batch {
		t.current = i
		s, err := t.counts.Slot(batch[i].Key)
		if err != nil {
			return err
		}
		n, _ := s.Value()
		t.counts.Set(s, n+1)
	}
	return nil
}

func queryCountProgram() *runtime.Program {
	ss, is := streams.StringSerde[string]{}, streams.IntSerde[int64]{}
	return &runtime.Program{
		Name: "Count", DefaultAppID: "count",
		Topics: []runtime.TopicSpec{{Name: "in", Kind: runtime.SourceTopic}, {Name: "counts-changelog", Kind: runtime.ChangelogTopic}},
		Stores: []runtime.StoreSpec{{Name: "counts", Changelog: 1, Persistent: true, SubTopology: 0,
			Query: runtime.QueryOf[string, int64](ss.Encode, ss.Decode, is.Decode)}},
		SubTopologies: []runtime.SubTopologySpec{{
			ID:      0,
			Sources: []runtime.SourceSpec{{Topics: []runtime.TopicID{0}}},
			Stores:  []int{0},
			NewTask: func(ctx runtime.TaskContext) runtime.Task {
				return &queryCountTask{counts: state.NewCache[int64](ctx.Stores[0], is.Encode, is.Decode, ctx.CacheEntries)}
			},
		}},
	}
}

// TestQueriesWhileProcessing reads a store over HTTP while its tasks count
// records into it (run it with -race: reads happen on the loop goroutine):
// every answer is a count no larger than the final one and never smaller
// than an earlier answer for the key, and the final answers equal a count
// made here. Scans see the same.
func TestQueriesWhileProcessing(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "in"), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	statusAddr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, queryCountProgram(), Config{Brokers: c.ListenAddrs(), AppID: "count", StateDir: t.TempDir(), Logger: quietLogger(),
			CommitInterval: 200 * time.Millisecond, StatusAddr: statusAddr})
	}()

	const keys, rounds = 40, 30
	want := map[string]int64{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	get := func(path string) (int, []byte) {
		resp, err := http.Get("http://" + statusAddr + path)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	final := func(k string) int64 { return rounds * int64(1+len(k)%3) }
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 1)
	wg.Add(1)
	go func() { // reads while the records arrive
		defer wg.Done()
		seen := map[string]int64{}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprintf("key-%d", i%keys)
			code, body := get("/stores/counts/" + k)
			var kv struct {
				Key   string `json:"key"`
				Value int64  `json:"value"`
			}
			switch code {
			case 0, http.StatusNotFound, http.StatusServiceUnavailable:
				continue
			case http.StatusOK:
				if err := json.Unmarshal(body, &kv); err != nil || kv.Key != k || kv.Value < seen[k] || kv.Value > final(k) {
					select {
					case errs <- fmt.Errorf("GET %s: %s after %d (final %d): %v", k, body, seen[k], final(k), err):
					default:
					}
					return
				}
				seen[k] = kv.Value
			default:
				select {
				case errs <- fmt.Errorf("GET %s: %d %s", k, code, body):
				default:
				}
				return
			}
			if i%keys == 0 {
				get("/stores/counts?limit=9")
			}
		}
	}()
	for r := range rounds {
		var recs []*kgo.Record
		for k := range keys {
			key := fmt.Sprintf("key-%d", k)
			for range 1 + len(key)%3 {
				recs = append(recs, &kgo.Record{Topic: "in", Key: []byte(key), Value: []byte{byte(r)}})
				want[key]++
			}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for k, n := range want {
		if n != final(k) {
			t.Fatalf("test bug: %s %d vs %d", k, n, final(k))
		}
	}
	for k, n := range want {
		for {
			code, body := get("/stores/counts/" + k)
			var kv struct{ Value int64 }
			json.Unmarshal(body, &kv)
			if code == http.StatusOK && kv.Value == n {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("GET %s: %d %s, want %d", k, code, body, n)
			case err := <-errs:
				t.Fatal(err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	code, body := get(fmt.Sprintf("/stores/counts?limit=%d", keys))
	var page struct {
		Entries []struct {
			Key   string
			Value int64
		}
		Next string
	}
	if err := json.Unmarshal(body, &page); code != http.StatusOK || err != nil || len(page.Entries) != keys || page.Next != "" {
		t.Fatalf("scan: %d %s %v", code, body, err)
	}
	for _, en := range page.Entries {
		if want[en.Key] != en.Value {
			t.Errorf("scan: %s = %d, want %d", en.Key, en.Value, want[en.Key])
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

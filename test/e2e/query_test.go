package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofka/streams/runtime"
)

// storeAnswer is one GET /stores/{store}/{key} answer.
type storeAnswer struct {
	code       int
	retryAfter string
	key        string
	value      int64
	body       string
}

func (c *cluster) storeGet(ctx context.Context, i int, user string) storeAnswer {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+c.status[i]+"/stores/"+storeName+"/"+url.PathEscape(user), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return storeAnswer{body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := storeAnswer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
	if a.code == http.StatusOK {
		var kv struct {
			Key   string `json:"key"`
			Value int64  `json:"value"`
		}
		if err := json.Unmarshal(b, &kv); err != nil {
			a.body = "bad JSON: " + err.Error() + ": " + a.body
			a.code = -1
		}
		a.key, a.value = kv.Key, kv.Value
	}
	return a
}

// storeScan reads every page of a scan of the store from replica i.
func (c *cluster) storeScan(ctx context.Context, i int, params url.Values) (map[string]int64, []string, error) {
	got := map[string]int64{}
	var order []string
	for pages := 0; ; pages++ {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+c.status[i]+"/stores/"+storeName+"?"+params.Encode(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		var page struct {
			Entries []struct {
				Key   string `json:"key"`
				Value int64  `json:"value"`
			} `json:"entries"`
			Next string `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			return nil, nil, fmt.Errorf("page %d: %s (%v)", pages, resp.Status, err)
		}
		if limit := params.Get("limit"); len(page.Entries) > 0 && fmt.Sprint(len(page.Entries)) != limit && page.Next != "" {
			return nil, nil, fmt.Errorf("page %d: %d entries with a next token, limit %s", pages, len(page.Entries), limit)
		}
		for _, en := range page.Entries {
			if _, dup := got[en.Key]; dup {
				return nil, nil, fmt.Errorf("key %s twice", en.Key)
			}
			got[en.Key] = en.Value
			order = append(order, en.Key)
		}
		if page.Next == "" {
			return got, order, nil
		}
		params.Set("next", page.Next)
	}
}

// TestInteractiveQueriesAcrossReplicas counts clicks on three replicas
// (exactly-once, so a store's value is exact even across a kill) and asks
// every replica for every user's count: each answers for keys of every
// partition (forwarding to the owner), equal to a count made here. Scans
// with pagination and prefixes equal a brute force. A SIGKILLed replica's
// keys answer 503 with Retry-After, never a wrong value, until its tasks
// move, then 200 with the right count.
func TestInteractiveQueriesAcrossReplicas(t *testing.T) {
	ctx := testContext(t, 150*time.Second)
	addr, cl, _ := clickCountBroker(ctx, t)
	c := newCluster(t, addr, 3, append([]string{"--checkpoint-interval", "2s"}, eosFlag...)...)
	c.startAll()
	owners := c.everyTaskRunning(ctx, []int{0, 1, 2})

	clicks := makeClicks(0, 3000)
	if err := produceClicks(ctx, cl, clicks); err != nil {
		t.Fatal(err)
	}
	want := expectedCounts(clicks)
	users := slices.Sorted(maps.Keys(want))

	// Every replica, every user: poll until the counts are complete, then
	// every answer must be exact.
	// counting: a 404 means the user's first click is not processed yet.
	allExact := func(alive []int, during string, counting bool) {
		t.Helper()
		var bad string
		err := poll(ctx, "every replica answers every user's count "+during, func() (bool, error) {
			for _, i := range alive {
				for _, u := range users {
					a := c.storeGet(ctx, i, u)
					switch {
					case a.code == http.StatusOK && a.key == u && a.value == want[u]:
					case a.code == http.StatusOK && a.key == u && a.value < want[u]:
						bad = fmt.Sprintf("r%d %s: %d of %d (still counting)", i, u, a.value, want[u])
						return false, nil
					case a.code == http.StatusNotFound && counting:
						bad = fmt.Sprintf("r%d %s: not counted yet", i, u)
						return false, nil
					case a.code == http.StatusServiceUnavailable && a.retryAfter != "":
						bad = fmt.Sprintf("r%d %s: 503 %s", i, u, strings.TrimSpace(a.body))
						return false, nil
					default:
						return false, fmt.Errorf("r%d GET %s: %d %q (key %q value %d), want 200 with %d or 503 with Retry-After",
							i, u, a.code, a.body, a.key, a.value, want[u])
					}
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("%v (last: %s)", err, bad)
		}
	}
	allExact([]int{0, 1, 2}, "", true)
	for i := range 3 {
		if a := c.storeGet(ctx, i, "no-such-user"); a.code != http.StatusNotFound {
			t.Errorf("r%d GET an absent key: %d %q, want 404", i, a.code, a.body)
		}
	}

	// Scans, paginated, equal the brute force in key order.
	got, order, err := c.storeScan(ctx, 1, url.Values{"limit": {"7"}})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) || !slices.Equal(order, users) {
		t.Errorf("full scan: %d keys, want %d; in order %v", len(got), len(want), slices.IsSorted(order))
	}
	for _, tc := range []url.Values{
		{"prefix": {"user-01"}, "limit": {"3"}},
		{"from": {"user-020"}, "to": {"user-055"}, "limit": {"10"}},
		{"prefix": {"nobody"}},
	} {
		brute := map[string]int64{}
		for u, n := range want {
			p := tc.Get("prefix")
			if (tc.Has("prefix") && strings.HasPrefix(u, p)) || (tc.Has("from") && u >= tc.Get("from") && u <= tc.Get("to")) {
				brute[u] = n
			}
		}
		got, _, err := c.storeScan(ctx, 2, tc)
		if err != nil {
			t.Fatalf("scan %v: %v", tc, err)
		}
		if !maps.Equal(got, brute) {
			t.Errorf("scan %v: %v, want %v", tc, got, brute)
		}
	}

	// The typed client, as the generated clickcount.NewClickCountStores makes
	// it (the example is a main package, which a test cannot import).
	stores := struct {
		ClickCounts *runtime.StoreClient[string, int64]
	}{
		runtime.NewStoreClient[string, int64](runtime.StoreClientConfig{BaseURL: "http://" + c.status[0]}, storeName)}
	for _, u := range users {
		if n, ok, err := stores.ClickCounts.Get(ctx, u); err != nil || !ok || n != want[u] {
			t.Errorf("typed Get %s: %d %v %v, want %d", u, n, ok, err, want[u])
		}
	}
	if _, ok, err := stores.ClickCounts.Get(ctx, "no-such-user"); ok || err != nil {
		t.Errorf("typed Get of an absent key: %v %v, want not found", ok, err)
	}
	typed := map[string]int64{}
	if err := stores.ClickCounts.Range(ctx, "user-020", "user-055", func(k string, n int64) bool { typed[k] = n; return true }); err != nil {
		t.Fatal(err)
	}
	brute := map[string]int64{}
	for u, n := range want {
		if u >= "user-020" && u <= "user-055" {
			brute[u] = n
		}
	}
	if !maps.Equal(typed, brute) {
		t.Errorf("typed Range: %v, want %v", typed, brute)
	}

	// SIGKILL a worker: its keys answer 503 (Retry-After) or the exact count,
	// never anything else, and all exact once its tasks moved.
	// The victim: a replica other than the leader that runs a task of the
	// store's sub-topology (1).
	leader := c.leader(ctx, []int{0, 1, 2})
	victim := -1
	for task, o := range owners {
		if strings.HasPrefix(task, "1_") && o != leader {
			victim = o
		}
	}
	if victim < 0 {
		t.Fatalf("the leader r%d runs every task of the store: %v", leader, owners)
	}
	var alive []int
	for i := range 3 {
		if i != victim {
			alive = append(alive, i)
		}
	}
	c.kill(victim)
	saw503 := false
	for _, i := range alive {
		for _, u := range users {
			a := c.storeGet(ctx, i, u)
			if a.code == http.StatusServiceUnavailable && a.retryAfter != "" {
				saw503 = true
			} else if a.code != http.StatusOK || a.value != want[u] {
				t.Fatalf("right after the kill: r%d %s: %d %q value %d, want 503+Retry-After or 200 with %d", i, u, a.code, a.body, a.value, want[u])
			}
		}
	}
	if !saw503 {
		t.Errorf("right after the kill of r%d no key answered 503: its keys were answered by whom?", victim)
	}
	allExact(alive, "after the kill", false)
	c.everyTaskRunning(ctx, alive)
}

// TestInteractiveQueriesWithStatusToken: with --status-token-file, a read
// without the token is refused, and with it every replica answers for keys
// of every partition, so the proxy hop carries the token too.
func TestInteractiveQueriesWithStatusToken(t *testing.T) {
	ctx := testContext(t, 120*time.Second)
	addr, cl, _ := clickCountBroker(ctx, t)
	tokenFile := t.TempDir() + "/token"
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, addr, 3, "--status-token-file", tokenFile)
	c.startAll()
	clicks := makeClicks(0, 1000)
	if err := produceClicks(ctx, cl, clicks); err != nil {
		t.Fatal(err)
	}
	want := expectedCounts(clicks)
	ask := func(i int, user, token string) (int, int64) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+c.status[i]+"/stores/"+storeName+"/"+url.PathEscape(user), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0
		}
		defer resp.Body.Close()
		var kv struct{ Value int64 }
		json.NewDecoder(resp.Body).Decode(&kv)
		return resp.StatusCode, kv.Value
	}
	err := poll(ctx, "every replica answers every user's count with the token", func() (bool, error) {
		for i := range 3 {
			for u, n := range want {
				if code, v := ask(i, u, "s3cret-token"); code != http.StatusOK || v != n {
					if code == http.StatusUnauthorized {
						return false, fmt.Errorf("r%d %s: 401 with the token (the hop lost it?)", i, u)
					}
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if code, _ := ask(i, "user-000", ""); code != http.StatusUnauthorized {
			t.Errorf("r%d without the token: %d, want 401", i, code)
		}
		if code, _ := ask(i, "user-000", "wrong"); code != http.StatusUnauthorized {
			t.Errorf("r%d with a wrong token: %d, want 401", i, code)
		}
	}
}

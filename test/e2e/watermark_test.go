package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestWatermarksThroughRepartition runs examples/eventtime (event time from
// the value, a watermark 5 s behind, a repartition by page) and checks in
// /status that each upstream task's watermark is the largest event time of its
// partition minus 5 s minus 1 ms, and that each downstream task's, carried
// through the repartition topic, is the smallest of the upstream ones.
func TestWatermarksThroughRepartition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	status := freeAddr(t)
	_, addr := startExampleWith(ctx, t, buildExample(ctx, t, "eventtime"), []string{"--status-addr", status}, "page-views", "views-by-page")

	cl := client(t, addr)
	base := time.Now().Add(-time.Hour).Truncate(time.Minute).UnixMilli() // inside a broker's default retention
	var recs []*kgo.Record
	for i := range 60 {
		v, _ := json.Marshal(map[string]any{"page": fmt.Sprintf("/p%d", i%7), "viewed_at": base + int64(i*997%60)*1000})
		recs = append(recs, &kgo.Record{Topic: "page-views", Key: fmt.Appendf(nil, "user-%d", i), Value: v})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	latest := map[int32]int64{} // by input partition
	for _, r := range recs {
		var v struct {
			ViewedAt int64 `json:"viewed_at"`
		}
		json.Unmarshal(r.Value, &v)
		latest[r.Partition] = max(latest[r.Partition], v.ViewedAt)
	}
	want := map[string]int64{}
	down := int64(-1)
	for p, ms := range latest {
		want[fmt.Sprintf("0_%d", p)] = ms - 5001
		if down < 0 || ms-5001 < down {
			down = ms - 5001
		}
	}
	if len(latest) != 3 {
		t.Fatalf("the views went to %d partitions, want all 3", len(latest))
	}
	for p := range 3 {
		want[fmt.Sprintf("1_%d", p)] = down
	}
	var shown map[string]int64
	err := poll(ctx, "/status shows the watermarks", func() (bool, error) {
		body, err := httpGet(ctx, "http://"+status+"/status")
		if err != nil {
			return false, nil
		}
		var view struct {
			Replica struct {
				Tasks []struct {
					Task      string `json:"task"`
					Watermark int64  `json:"watermark_ms"`
				} `json:"tasks"`
			} `json:"replica"`
		}
		if err := json.Unmarshal([]byte(body), &view); err != nil {
			return false, err
		}
		shown = map[string]int64{}
		for _, tk := range view.Replica.Tasks {
			shown[tk.Task] = tk.Watermark
		}
		for task, ms := range want {
			if shown[task] != ms {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("%v: shown %v, want %v", err, shown, want)
	}
}

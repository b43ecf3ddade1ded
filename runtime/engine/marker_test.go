package engine

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gofka/streams/coordinator"
)

// TestMarkerFits: a clean-shutdown marker is used only when the committed
// changelog still holds everything after its offsets, no snapshot claims a
// changelog end the changelog does not reach, and the committed input offsets
// are not behind it; each refusal says why.
func TestMarkerFits(t *testing.T) {
	p := countProgram()
	e := &Engine{prog: p, topics: infos(p), cfg: Config{AppID: "app"}}
	id := coordinator.TaskID{SubTopology: 1, Partition: 2}
	b := map[topicPartition]bounds{{"cl", 2}: {start: 5, end: 40}}
	committed := func(at int64) kadm.OffsetResponses {
		var o kadm.OffsetResponses
		o.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: "rep", Partition: 2, At: at}})
		return o
	}
	snap := func(cl int64) []coordinator.TaskCheckpoint {
		return []coordinator.TaskCheckpoint{{ID: 7, CheckpointAck: coordinator.CheckpointAck{ChangelogOffsets: map[string]int64{"cl/2": cl}}}}
	}
	marker := func(cl int64) *cleanMarker {
		return &cleanMarker{Version: markerVersion, App: "app", Task: "1_2",
			Changelog: map[string]int64{"cl/2": cl}, Inputs: map[string]int64{"rep/2": 100}}
	}
	other := marker(20)
	other.Task = "1_3"
	for _, c := range []struct {
		name      string
		m         *cleanMarker
		committed kadm.OffsetResponses
		snapshots []coordinator.TaskCheckpoint
		why       string // a part of the reason; "" when usable
	}{
		{"usable, nothing written since", marker(40), committed(100), snap(30), ""},
		{"usable, another owner wrote more since", marker(20), committed(150), snap(35), ""},
		{"another task's marker", other, committed(100), nil, "not of this task"},
		{"changelog behind the state (recreated, or records lost)", marker(41), committed(100), nil, "outside the changelog"},
		{"changelog compacted past the state", marker(4), committed(100), nil, "outside the changelog"},
		{"a snapshot past the committed changelog", marker(20), committed(100), snap(45), "past its committed end"},
		{"input offsets reset behind the state", marker(20), committed(99), nil, "behind the marker's"},
		{"input offsets gone", marker(20), nil, nil, "behind the marker's"},
	} {
		why := e.markerFits(c.m, id, b, c.committed, c.snapshots)
		if (c.why == "") != (why == "") || !strings.Contains(why, c.why) {
			t.Errorf("%s: %q, want %q", c.name, why, c.why)
		}
	}
}

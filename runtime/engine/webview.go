package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gofka/streams/coordinator"
	"github.com/gofka/streams/runtime"
	"github.com/gofka/streams/runtime/webview"
)

// The web view (runtime/webview) polls GET /ui/group.json every second: this
// replica's coordinator view (members, leader, assignment and its history,
// checkpoints) and its checkpoint parts, and the /status of every member,
// fetched from each in parallel, so one page shows the lag and throughput of
// every task wherever it runs.
type groupView struct {
	Self        string              `json:"self"`
	Cluster     *coordinator.Status `json:"cluster,omitempty"`
	Checkpoints []checkpointRecord  `json:"local_checkpoints"`
	Replicas    []memberReplicaView `json:"replicas"`
}

// memberReplicaView is one member's part of /status, or why it is missing
// (a member that died is listed until the leader removes it).
type memberReplicaView struct {
	ID         string       `json:"id"`
	StatusAddr string       `json:"status_addr"`
	View       *replicaView `json:"view,omitempty"`
	Error      string       `json:"error,omitempty"`
}

// peerViewTimeout bounds the wait for a member's /status, so a dead member
// does not hold the page's one-second poll.
const peerViewTimeout = 800 * time.Millisecond

// mountWebView registers the page and its group.json on mux.
func (s *statusServer) mountWebView(e *Engine, mux *http.ServeMux) {
	prog := e.prog
	if prog == nil {
		prog = &runtime.Program{} // a status server without a program (tests)
	}
	webview.Mount(mux, webview.Topology{Name: prog.Name, AppID: e.cfg.AppID, Mermaid: webview.Diagram(prog, e.cfg.AppID)})
	mux.HandleFunc("GET /ui/group.json", func(w http.ResponseWriter, r *http.Request) {
		out := s.groupView(e, r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(out)
	})
}

func (s *statusServer) groupView(e *Engine, r *http.Request) groupView {
	s.mu.Lock()
	self := s.view
	s.mu.Unlock()
	out := groupView{Self: e.cfg.ReplicaID, Checkpoints: e.ckpt.history(),
		Replicas: []memberReplicaView{{ID: e.cfg.ReplicaID, StatusAddr: s.addr, View: &self}}}
	node := e.liveNode.Load()
	if node == nil {
		return out
	}
	st := node.Status()
	out.Cluster = &st
	ctx, cancel := context.WithTimeout(r.Context(), peerViewTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, m := range st.Members {
		if m.ID == e.cfg.ReplicaID {
			continue
		}
		out.Replicas = append(out.Replicas, memberReplicaView{ID: m.ID, StatusAddr: m.StatusAddr})
	}
	for i := 1; i < len(out.Replicas); i++ {
		wg.Add(1)
		go func(mv *memberReplicaView) {
			defer wg.Done()
			mv.View, mv.Error = s.peerView(r.WithContext(ctx), mv.StatusAddr)
		}(&out.Replicas[i])
	}
	wg.Wait()
	return out
}

// peerView reads another member's part of /status, with r's credentials.
func (s *statusServer) peerView(r *http.Request, statusAddr string) (*replicaView, string) {
	if statusAddr == "" {
		return nil, "no status address known"
	}
	resp, err := s.hop(r, statusAddr, "/status")
	if err != nil {
		return nil, err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Sprintf("GET /status: %s", resp.Status)
	}
	var st struct {
		Replica replicaView `json:"replica"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Sprintf("GET /status: %v", err)
	}
	return &st.Replica, ""
}

package coordinator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
)

// Control RPCs: JSON over HTTP/1.1 on the Raft port (protocol byte 'C').
// Each goes to the leader; a replica that is not the leader forwards the
// request to the one it knows, once.
const (
	pathJoin      = "/v1/join"
	pathLeave     = "/v1/leave"
	pathHeartbeat = "/v1/heartbeat"
	pathAck       = "/v1/checkpoint/ack"
	pathStart     = "/v1/checkpoint/start"
	pathStatus    = "/v1/status"

	hdrForwarded = "X-Gofka-Forwarded-By"
	maxBody      = 8 << 20
)

type joinRequest struct {
	Addr       string `json:"addr"`
	ID         string `json:"id"`
	StatusAddr string `json:"status_addr,omitempty"`
	// Previous is the address the joining replica's data directory last
	// joined at, if it differs: that member's process is gone (the
	// directory's raft.db is locked by one process at a time, and a node
	// drops its lease before it releases the lock), so its tasks may move
	// at once.
	Previous string `json:"previous,omitempty"`
}

type joinResponse struct {
	Incarnation uint64 `json:"incarnation"`
	Epoch       uint64 `json:"epoch"`
}

type heartbeatRequest struct {
	Addr         string           `json:"addr"`
	ID           string           `json:"id"`
	Incarnation  uint64           `json:"incarnation"`
	AppliedEpoch uint64           `json:"applied_epoch"`
	Running      []TaskID         `json:"running"`
	Lags         map[string]int64 `json:"lags,omitempty"`
	StandbyLags  map[string]int64 `json:"standby_lags,omitempty"`
}

// Heartbeat answers.
const (
	hbOK      = "ok"      // alive: the lease is extended
	hbDead    = "dead"    // declared dead: stop everything and join again
	hbUnknown = "unknown" // not a member (never joined, or state lost)
	hbStale   = "stale"   // an older incarnation of the member
	hbLeft    = "left"    // left the group
)

type heartbeatResponse struct {
	Status string   `json:"status"`
	Epoch  uint64   `json:"epoch"`
	Mine   []TaskID `json:"mine,omitempty"`
}

type leaveRequest struct {
	Addr string `json:"addr"`
}

type ackRequest struct {
	Addr       string        `json:"addr"`
	Checkpoint uint64        `json:"checkpoint"`
	Task       TaskID        `json:"task"`
	Ack        CheckpointAck `json:"ack"`
	// Error, when set, says the task's part failed: the leader aborts the
	// checkpoint, with Error as the reason (Ack is then empty).
	Error string `json:"error,omitempty"`
}

type ackResponse struct {
	Complete bool `json:"complete"`
}

type startResponse struct {
	Checkpoint uint64 `json:"checkpoint"`
}

type errorResponse struct {
	Error string `json:"error"`
}

// rpcError is a non-200 answer. 503 means "try again (elsewhere)"; 409 is a
// refusal that retrying will not change.
type rpcError struct {
	Status int
	Msg    string
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Msg, e.Status) }

func retryable(err error) bool {
	var re *rpcError
	if errors.As(err, &re) {
		return re.Status == http.StatusServiceUnavailable || re.Status == http.StatusBadGateway
	}
	return true // transport errors
}

func newControlClient(pt *PeerTLS) *http.Client {
	return &http.Client{Transport: &http.Transport{
		// Over TLS with PeerTLS: the URL stays http://, since the transport
		// sees a connection that is already TLS.
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return dialProto(ctx, pt, addr, protoControl)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}}
}

// call POSTs in to addr's path and decodes the answer into out (if not nil).
func (n *Node) call(ctx context.Context, addr, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return n.do(ctx, addr, path, body, nil, out)
}

func (n *Node) do(ctx context.Context, addr, path string, body []byte, hdr http.Header, out any) error {
	method := http.MethodPost
	if body == nil {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e errorResponse
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return &rpcError{Status: resp.StatusCode, Msg: e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s from %s: %w", path, addr, err)
	}
	return nil
}

// callLeader sends a request to the leader, or to any peer (which forwards
// it), retrying until it is answered, refused, or ctx ends.
func (n *Node) callLeader(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	backoff := 50 * time.Millisecond
	var last error
	for {
		targets := n.targets()
		for _, addr := range targets {
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := n.do(tctx, addr, path, body, nil, out)
			cancel()
			if err == nil {
				return nil
			}
			if ctx.Err() != nil && last != nil {
				break // cut short: the last complete attempt's error says more
			}
			last = fmt.Errorf("%s: %w", addr, err)
			if !retryable(err) {
				return last
			}
			if ctx.Err() != nil {
				break
			}
		}
		if len(targets) == 0 {
			last = errors.New("no leader or peer known")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", path, ctx.Err(), last)
		case <-n.ctx.Done():
			return fmt.Errorf("%s: node closed (last error: %v)", path, last)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// targets lists where to send a request for the leader: the leader if known,
// else the peers.
func (n *Node) targets() []string {
	if addr, _ := n.raft().LeaderWithID(); addr != "" {
		return []string{string(addr)}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, p := range n.peers {
		if p != n.addr {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = append(out, n.addr) // a single replica asks itself
	}
	return out
}

func (n *Node) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathJoin, n.leaderOnly(n.handleJoin))
	mux.HandleFunc("POST "+pathLeave, n.leaderOnly(n.handleLeave))
	mux.HandleFunc("POST "+pathHeartbeat, n.leaderOnly(n.handleHeartbeat))
	mux.HandleFunc("POST "+pathAck, n.leaderOnly(n.handleAck))
	mux.HandleFunc("POST "+pathStart, n.leaderOnly(n.handleStart))
	mux.HandleFunc("GET "+pathStatus, n.leaderOnly(n.handleStatus))
	return mux
}

// leaderOnly runs h on the leader; elsewhere it forwards the request to the
// leader once (a forwarded request that again meets a non-leader gets 503,
// and the sender retries).
func (n *Node) leaderOnly(h func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Method == http.MethodPost {
			var err error
			body, err = io.ReadAll(io.LimitReader(r.Body, maxBody))
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("read request: %w", err))
				return
			}
		}
		if n.raft().State() == raft.Leader {
			h(w, r, body)
			return
		}
		leader, _ := n.raft().LeaderWithID()
		if leader == "" || leader == raft.ServerAddress(n.addr) || r.Header.Get(hdrForwarded) != "" {
			writeError(w, http.StatusServiceUnavailable, errors.New("not the leader, and no other leader known"))
			return
		}
		var out json.RawMessage
		err := n.do(r.Context(), string(leader), r.URL.Path, body, http.Header{hdrForwarded: {n.addr}}, &out)
		if err != nil {
			var re *rpcError
			if errors.As(err, &re) {
				writeError(w, re.Status, errors.New(re.Msg))
			} else {
				writeError(w, http.StatusBadGateway, fmt.Errorf("forward to leader %s: %w", leader, err))
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorResponse{Error: err.Error()})
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	return nil
}

package engine

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/gofka/streams/runtime"
)

// The HTTP side of interactive queries (query.go): routes, parameters, and
// the proxy hop to the replica that owns a key's task.

// queryHandlers registers the /stores routes on mux.
func (s *statusServer) queryHandlers(e *Engine, mux *http.ServeMux) {
	mux.HandleFunc("GET /stores/{store}/{key}", func(w http.ResponseWriter, r *http.Request) {
		si, ok := storeIndex(e.prog, r.PathValue("store"))
		if !ok {
			http.Error(w, "no queryable key-value store "+strconv.Quote(r.PathValue("store")), http.StatusNotFound)
			return
		}
		key, err := e.prog.Stores[si].Query.KeyFromText(r.PathValue("key"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q := &storeRead{store: si, key: key}
		if e.prog.Stores[si].Query.Windows != nil {
			if q.wfrom, q.wto, err = windowParams(r.URL.Query()); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			q.windowed = true
		}
		res := s.read(r.Context(), q)
		switch {
		case res.err != nil && res.status != http.StatusNotFound:
			http.Error(w, res.err.Error(), http.StatusInternalServerError)
		case res.status == http.StatusServiceUnavailable:
			s.forward(w, r, res.owner, r.URL.RequestURI())
		case res.err != nil:
			http.Error(w, res.err.Error(), http.StatusInternalServerError)
		case res.status == http.StatusNotFound:
			http.Error(w, "key not found", http.StatusNotFound)
		case q.windowed:
			kj, _ := e.prog.Stores[si].Query.KeyJSON(key)
			writeJSON(w, struct {
				Key     json.RawMessage       `json:"key"`
				Windows []runtime.WindowEntry `json:"windows"`
			}{kj, res.windows})
		default:
			res.entry.Raw = nil
			writeJSON(w, res.entry)
		}
	})
	mux.HandleFunc("GET /stores/{store}", func(w http.ResponseWriter, r *http.Request) {
		si, ok := storeIndex(e.prog, r.PathValue("store"))
		if !ok {
			http.Error(w, "no queryable key-value store "+strconv.Quote(r.PathValue("store")), http.StatusNotFound)
			return
		}
		if e.prog.Stores[si].Query.Windows != nil {
			http.Error(w, "a window store is read a key at a time: GET /stores/{store}/{key}?from=&to=", http.StatusBadRequest)
			return
		}
		q, err := scanParams(r.URL.Query(), e.prog.Stores[si].Query.KeyFromText)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q.store = si
		if r.URL.Query().Has("partition") { // one partition, asked by another replica's scan
			s.scanPartition(w, r, q)
			return
		}
		s.scanAll(w, r, q)
	})
}

// scanParams reads a scan's from, to (inclusive), prefix, limit and next.
// from and to are keys as a path writes them (parse encodes them); prefix
// bounds the encoded key bytes (for a string key: the text). Entries come in
// the order of the encoded keys.
func scanParams(v url.Values, parse func(string) ([]byte, error)) (*storeRead, error) {
	q := &storeRead{scan: true, limit: 100}
	for _, b := range []struct {
		name string
		to   *[]byte
	}{{"from", &q.from}, {"to", &q.to}} {
		if !v.Has(b.name) {
			continue
		}
		k, err := parse(v.Get(b.name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.name, err)
		}
		*b.to = k
	}
	if q.to != nil {
		q.to = append(q.to, 0) // inclusive: the next key after it
	}
	if v.Has("prefix") {
		if v.Has("from") || v.Has("to") {
			return nil, fmt.Errorf("give prefix, or from and to, not both")
		}
		q.from, q.to = []byte(v.Get("prefix")), prefixEnd([]byte(v.Get("prefix")))
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxScanLimit {
			return nil, fmt.Errorf("limit must be 1 to %d", maxScanLimit)
		}
		q.limit = n
	}
	if s := v.Get("next"); s != "" {
		after, err := decodeToken(s)
		if err != nil {
			return nil, fmt.Errorf("bad next token: %w", err)
		}
		if start := append(after, 0); bytes.Compare(start, q.from) > 0 {
			q.from = start
		}
	}
	if s := v.Get("partition"); s != "" {
		p, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad partition: %w", err)
		}
		q.partition = int32(p)
	}
	return q, nil
}

// windowParams reads a window query's from and to: window start times, ms
// since the epoch, both included (default: every window).
func windowParams(v url.Values) (from, to int64, err error) {
	from, to = 0, math.MaxInt64
	for _, p := range []struct {
		name string
		to   *int64
	}{{"from", &from}, {"to", &to}} {
		if s := v.Get(p.name); s != "" {
			if *p.to, err = strconv.ParseInt(s, 10, 64); err != nil {
				return 0, 0, fmt.Errorf("%s: a time in ms since the epoch: %w", p.name, err)
			}
		}
	}
	return from, to, nil
}

// prefixEnd is the smallest key after every key starting with prefix (nil: none).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// scanPartition answers one partition's part of a scan, with each key's bytes.
func (s *statusServer) scanPartition(w http.ResponseWriter, r *http.Request, q *storeRead) {
	res := s.read(r.Context(), q)
	if res.status == http.StatusServiceUnavailable {
		s.forward(w, r, res.owner, r.URL.RequestURI())
		return
	}
	if res.err != nil {
		http.Error(w, res.err.Error(), http.StatusInternalServerError)
		return
	}
	page := scanPage{Entries: res.entries}
	if res.more {
		page.Next = "more"
	}
	if page.Entries == nil {
		page.Entries = []queryEntry{}
	}
	writeJSON(w, page)
}

// scanAll asks every partition for its first q.limit entries and merges them.
func (s *statusServer) scanAll(w http.ResponseWriter, r *http.Request, q *storeRead) {
	var all []queryEntry
	more := false
	for p, n := int32(0), int32(1); p < n; p++ {
		pq := *q
		pq.partition = p
		page, parts, err := s.scanOne(r, &pq)
		if err != nil {
			if err == errMoving {
				unavailable(w, fmt.Sprintf("partition %d of the store is moving", p))
			} else {
				http.Error(w, err.Error(), http.StatusBadGateway)
			}
			return
		}
		if parts > 0 {
			n = parts
		}
		all = append(all, page.Entries...)
		more = more || page.Next != ""
	}
	page := mergePage(all, q.limit, more)
	writeJSON(w, page)
}

// mergePage keeps the first limit entries in key-byte order; more says
// whether some partition had entries past its page.
func mergePage(all []queryEntry, limit int, more bool) scanPage {
	slicesSortByRaw(all)
	if len(all) > limit {
		all, more = all[:limit], true
	}
	page := scanPage{Entries: make([]queryEntry, len(all))}
	for i, en := range all {
		en.Raw = nil
		page.Entries[i] = en
	}
	if more && len(all) > 0 {
		page.Next = encodeToken(all[len(all)-1].Raw)
	}
	return page
}

var errMoving = fmt.Errorf("moving")

// scanOne reads one partition here or from its owner; it also returns the
// store's partition count when it was read here (0 otherwise).
func (s *statusServer) scanOne(r *http.Request, q *storeRead) (scanPage, int32, error) {
	res := s.read(r.Context(), q)
	if res.err != nil {
		return scanPage{}, 0, res.err
	}
	if res.status == http.StatusOK {
		page := scanPage{Entries: res.entries}
		if res.more {
			page.Next = "more"
		}
		return page, res.partitions, nil
	}
	if res.owner == "" || r.Header.Get(forwardedHeader) != "" {
		return scanPage{}, 0, errMoving
	}
	v := r.URL.Query()
	v.Set("partition", strconv.Itoa(int(q.partition)))
	resp, err := s.hop(r, res.owner, r.URL.Path+"?"+v.Encode())
	if err != nil {
		return scanPage{}, 0, errMoving
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		return scanPage{}, 0, errMoving
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return scanPage{}, 0, fmt.Errorf("replica %s: %s: %s", res.owner, resp.Status, bytes.TrimSpace(b))
	}
	var page scanPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return scanPage{}, 0, fmt.Errorf("replica %s: %w", res.owner, err)
	}
	return page, res.partitions, nil
}

// forward answers r from the replica at statusAddr (one hop only), or 503.
func (s *statusServer) forward(w http.ResponseWriter, r *http.Request, statusAddr, uri string) {
	if statusAddr == "" || r.Header.Get(forwardedHeader) != "" {
		unavailable(w, "the key's task is moving; retry")
		return
	}
	resp, err := s.hop(r, statusAddr, uri)
	if err != nil {
		unavailable(w, "the key's owner does not answer: "+err.Error())
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Retry-After"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// hop sends r's GET to another replica's status server, with r's
// Authorization header.
func (s *statusServer) hop(r *http.Request, statusAddr, uri string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.scheme+statusAddr+uri, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	req.Header.Set(forwardedHeader, "1")
	resp, err := s.client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error { err := c.ReadCloser.Close(); c.cancel(); return err }

// hopClient is the client of the proxy hop: with TLS it trusts the system's
// roots and this replica's own status certificate (replicas share one, or
// one from the same authority).
func hopClient(cfg *Config) *http.Client {
	c := &http.Client{Timeout: queryTimeout}
	if cfg.StatusTLSCert == "" {
		return c
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if pem, err := os.ReadFile(cfg.StatusTLSCert); err == nil {
		roots.AppendCertsFromPEM(pem)
	}
	c.Transport = &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}}
	return c
}

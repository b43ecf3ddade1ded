package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// StoreClient reads one key-value store of a running application through
// any replica's status address (GET /stores/…), which forwards to the
// replica owning the key. Generated code gives each topology a
// <Topology>Stores value holding one per queryable store, typed with the
// store's key and value types.
type StoreClient[K, V any] struct {
	cfg   StoreClientConfig
	store string
}

// StoreClientConfig says how to reach a replica's status server.
type StoreClientConfig struct {
	// BaseURL is a replica's status address with its scheme, e.g.
	// "http://127.0.0.1:8080".
	BaseURL string
	// Client makes the requests; nil is http.DefaultClient. Give it the
	// TLS settings the status server needs.
	Client *http.Client
	// Token is sent as a bearer token when not empty (--status-token-file).
	Token string
}

// NewStoreClient reads store through cfg.
func NewStoreClient[K, V any](cfg StoreClientConfig, store string) *StoreClient[K, V] {
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	return &StoreClient[K, V]{cfg: cfg, store: store}
}

// Get returns key's value and whether the store holds it. While the key's
// task is moving (503), it waits as Retry-After says and asks again, until
// ctx ends.
func (c *StoreClient[K, V]) Get(ctx context.Context, key K) (V, bool, error) {
	var zero V
	var out struct {
		Value V `json:"value"`
	}
	found, err := c.do(ctx, "/stores/"+url.PathEscape(c.store)+"/"+url.PathEscape(KeyText(key)), &out)
	if err != nil || !found {
		return zero, false, err
	}
	return out.Value, true, nil
}

// Range calls fn for each entry with from <= key <= to, in the store's key
// byte order, a page at a time, until fn returns false.
func (c *StoreClient[K, V]) Range(ctx context.Context, from, to K, fn func(K, V) bool) error {
	return c.scan(ctx, url.Values{"from": {KeyText(from)}, "to": {KeyText(to)}}, fn)
}

// Prefix calls fn for each entry whose encoded key starts with prefix (for a
// string key: the key starts with it), until fn returns false.
func (c *StoreClient[K, V]) Prefix(ctx context.Context, prefix string, fn func(K, V) bool) error {
	return c.scan(ctx, url.Values{"prefix": {prefix}}, fn)
}

func (c *StoreClient[K, V]) scan(ctx context.Context, params url.Values, fn func(K, V) bool) error {
	params.Set("limit", "500")
	for {
		var page struct {
			Entries []struct {
				Key   K `json:"key"`
				Value V `json:"value"`
			} `json:"entries"`
			Next string `json:"next"`
		}
		if _, err := c.do(ctx, "/stores/"+url.PathEscape(c.store)+"?"+params.Encode(), &page); err != nil {
			return err
		}
		for _, en := range page.Entries {
			if !fn(en.Key, en.Value) {
				return nil
			}
		}
		if page.Next == "" {
			return nil
		}
		params.Set("next", page.Next)
	}
}

// do GETs path into out: false on 404, waiting out 503s.
func (c *StoreClient[K, V]) do(ctx context.Context, path string, out any) (bool, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+path, nil)
		if err != nil {
			return false, err
		}
		if c.cfg.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
		}
		resp, err := c.cfg.Client.Do(req)
		if err != nil {
			return false, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return false, err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			return true, json.Unmarshal(body, out)
		case http.StatusNotFound:
			if strings.HasPrefix(string(body), "key not found") {
				return false, nil
			}
		case http.StatusServiceUnavailable:
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-ctx.Done():
				return false, fmt.Errorf("store %s: %s: %w", c.store, strings.TrimSpace(string(body)), ctx.Err())
			case <-time.After(wait):
			}
			continue
		}
		return false, fmt.Errorf("store %s: GET %s: %s: %s", c.store, path, resp.Status, strings.TrimSpace(string(body)))
	}
}

// KeyText is key as a path names it (ParseKeyText's inverse): a string key
// itself, a number in decimal, a bool true or false, any other key its JSON.
func KeyText[K any](key K) string {
	v := reflect.ValueOf(key)
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	}
	b, _ := json.Marshal(key)
	return string(b)
}

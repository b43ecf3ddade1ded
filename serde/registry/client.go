// Package registry is a client for a schema registry that speaks Confluent's REST
// API (Confluent Schema Registry, Apicurio's ccompat API, Karapace), and the
// Confluent wire format that serdes write with it.
//
// A serde that uses a registry registers its schema under its subject the first
// time it encodes (POST /subjects/{subject}/versions, which returns the existing id
// when the schema is already there), then writes that id in front of every
// payload. A reader meets ids of other schema versions and fetches each once
// (GET /schemas/ids/{id}). Both answers are cached for the life of the Client:
// ids are immutable in a registry, so the cache never needs invalidating.
//
//	record: 0x00 | schema id (4 bytes, big-endian) | [protobuf: message indexes] | payload
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Schema types, as the registry names them ("" means AVRO).
const (
	Avro       = "AVRO"
	Protobuf   = "PROTOBUF"
	JSONSchema = "JSON"
)

// Schema is a schema as the registry stores it.
type Schema struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
}

// Reference names another subject's schema that a schema imports.
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// Error is an error answer from the registry.
type Error struct {
	Status  int    // HTTP status
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("schema registry: %d %s (error code %d)", e.Status, e.Message, e.Code)
}

// Client talks to one registry. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client

	mu   sync.Mutex
	byID map[int]Schema
	ids  map[string]int // subject + "\x00" + type + "\x00" + schema → id
}

// New returns a client for the registry at baseURL (e.g. "http://127.0.0.1:8081",
// or Apicurio's "http://127.0.0.1:8080/apis/ccompat/v7").
func New(baseURL string) *Client {
	return &Client{
		base: strings.TrimSuffix(baseURL, "/"),
		http: &http.Client{Timeout: 30 * time.Second},
		byID: map[int]Schema{},
		ids:  map[string]int{},
	}
}

var (
	clientsMu sync.Mutex
	clients   = map[string]*Client{}
)

// Shared returns the one Client of this process for baseURL, so that every serde
// that names a registry shares its cache.
func Shared(baseURL string) *Client {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	c := clients[baseURL]
	if c == nil {
		c = New(baseURL)
		clients[baseURL] = c
	}
	return c
}

// URL returns the registry's base URL.
func (c *Client) URL() string { return c.base }

// Register registers s under subject (a no-op in the registry if it is there
// already) and returns its id. Answers are cached.
func (c *Client) Register(ctx context.Context, subject string, s Schema) (int, error) {
	key := subject + "\x00" + s.SchemaType + "\x00" + s.Schema
	c.mu.Lock()
	id, ok := c.ids[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	var out struct {
		ID int `json:"id"`
	}
	if err := c.do(ctx, "POST", "/subjects/"+url.PathEscape(subject)+"/versions", s, &out); err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.ids[key] = out.ID
	c.byID[out.ID] = s
	c.mu.Unlock()
	return out.ID, nil
}

// SchemaByID returns the schema with the given id. Answers are cached.
func (c *Client) SchemaByID(ctx context.Context, id int) (Schema, error) {
	c.mu.Lock()
	s, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	if err := c.do(ctx, "GET", "/schemas/ids/"+strconv.Itoa(id), nil, &s); err != nil {
		return Schema{}, err
	}
	if s.SchemaType == "" {
		s.SchemaType = Avro
	}
	c.mu.Lock()
	c.byID[id] = s
	c.mu.Unlock()
	return s, nil
}

// Compatibility is the answer of a compatibility check.
type Compatibility struct {
	Compatible bool     `json:"is_compatible"`
	Messages   []string `json:"messages"` // why not, when the registry says (verbose)
}

// CheckCompatibility asks whether s may be registered as the next version of
// subject under the subject's compatibility level. A subject with no versions
// yet accepts anything.
func (c *Client) CheckCompatibility(ctx context.Context, subject string, s Schema) (Compatibility, error) {
	var out Compatibility
	err := c.do(ctx, "POST", "/compatibility/subjects/"+url.PathEscape(subject)+"/versions/latest?verbose=true", s, &out)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return Compatibility{Compatible: true}, nil
	}
	return out, err
}

// SetCompatibility sets subject's compatibility level (BACKWARD, FORWARD, FULL,
// NONE, and their _TRANSITIVE forms).
func (c *Client) SetCompatibility(ctx context.Context, subject, level string) error {
	body := map[string]string{"compatibility": level}
	return c.do(ctx, "PUT", "/config/"+url.PathEscape(subject), body, nil)
}

// Versions lists the versions registered under subject.
func (c *Client) Versions(ctx context.Context, subject string) ([]int, error) {
	var out []int
	err := c.do(ctx, "GET", "/subjects/"+url.PathEscape(subject)+"/versions", nil, &out)
	return out, err
}

const contentType = "application/vnd.schemaregistry.v1+json"

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", contentType)
	if in != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("schema registry: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("schema registry: %s %s: %w", method, path, err)
	}
	return nil
}

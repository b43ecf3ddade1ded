package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"
)

// ErrNotFound is wrapped by Store.Get and Store.Stat when the key does not exist.
var ErrNotFound = errors.New("object not found")

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key      string    // the object's key, as given to Put (without the store's own prefix)
	Size     int64     // bytes
	Modified time.Time // when the object was last written, by the store's clock
}

// Store is a flat blob store of immutable objects addressed by slash-separated keys.
//
// Keys are relative ("app/sst/…"): no leading or trailing slash, no empty, "." or ".."
// components, no component starting with ".tmp-" (the file store's temporary files).
// Every method is safe for concurrent use.
type Store interface {
	// Put stores exactly size bytes read from r under key, replacing any object
	// there. Readers see either the old object or the whole new one, never a part.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get opens the object at key; the caller closes it. A missing key gives an
	// error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes the object at key; a missing key gives an error wrapping
	// ErrNotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// List returns every object whose key starts with prefix (a plain string
	// prefix, not necessarily ending in "/"), sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes the objects at keys; keys that do not exist are not an error.
	Delete(ctx context.Context, keys ...string) error
}

// Options configure Open for S3-compatible servers. All are optional: with none
// set, Open talks to AWS S3 in the region the standard configuration names.
type Options struct {
	// Endpoint is the base URL of an S3-compatible server, such as
	// "http://127.0.0.1:9000" for MinIO. Empty: AWS's own endpoints (or
	// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL when set).
	Endpoint string
	// PathStyle addresses buckets as <endpoint>/<bucket>/<key> instead of
	// <bucket>.<endpoint>/<key>; most S3-compatible servers need it.
	PathStyle bool
	// Region overrides the region from the environment and shared config. When
	// neither names one, "us-east-1" is used (S3-compatible servers ignore it, but
	// requests must be signed for some region).
	Region string
}

// Open opens the store a URL names:
//
//	file:///abs/path          a local directory (created if missing)
//	s3://bucket               an S3 bucket
//	s3://bucket/some/prefix   keys under a prefix of an S3 bucket
//
// S3 credentials come from the AWS SDK's standard chain (environment variables
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, shared config and credentials files,
// AWS_PROFILE, web identity, container and EC2 instance roles).
func Open(ctx context.Context, rawURL string, opts Options) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("snapshot: store URL %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("snapshot: store URL %q: file URLs name a local absolute path, as file:///abs/path", rawURL)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("snapshot: store URL %q: a file URL takes no query or fragment", rawURL)
		}
		if !path.IsAbs(u.Path) {
			return nil, fmt.Errorf("snapshot: store URL %q: the path must be absolute, as file:///abs/path", rawURL)
		}
		return NewFileStore(u.Path)
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("snapshot: store URL %q: no bucket; want s3://bucket/prefix", rawURL)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("snapshot: store URL %q: an s3 URL is s3://bucket/prefix, with no user, query or fragment", rawURL)
		}
		prefix := strings.Trim(u.Path, "/")
		if prefix != "" {
			if err := checkKey(prefix); err != nil {
				return nil, fmt.Errorf("snapshot: store URL %q: prefix: %w", rawURL, err)
			}
		}
		return NewS3Store(ctx, u.Host, prefix, opts)
	case "":
		return nil, fmt.Errorf("snapshot: store URL %q has no scheme; want file:///abs/path or s3://bucket/prefix", rawURL)
	default:
		return nil, fmt.Errorf("snapshot: store URL %q: unsupported scheme %q; want file or s3", rawURL, u.Scheme)
	}
}

// checkKey reports why key is not a valid object key, or nil.
func checkKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	if len(key) > 900 {
		return fmt.Errorf("key %.40q… is %d bytes long; at most 900", key, len(key))
	}
	for _, part := range strings.Split(key, "/") {
		switch {
		case part == "":
			return fmt.Errorf("key %q has an empty component (leading, trailing or doubled slash)", key)
		case part == "." || part == "..":
			return fmt.Errorf("key %q has a %q component", key, part)
		case strings.HasPrefix(part, tmpPrefix):
			return fmt.Errorf("key %q has a component starting with %q, reserved for temporary files", key, tmpPrefix)
		}
		for _, r := range part {
			if r < 0x20 || r == 0x7f || r == '\\' {
				return fmt.Errorf("key %q contains a control character or backslash", key)
			}
		}
	}
	return nil
}

// checkPrefix is checkKey for List prefixes, which may be empty or end in "/".
func checkPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		if prefix == "" {
			return nil
		}
		return fmt.Errorf("prefix %q starts with a slash", prefix)
	}
	return checkKey(p)
}

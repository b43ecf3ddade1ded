package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// tmpPrefix starts the names of the file store's temporary files; List skips them
// and keys may not use it.
const tmpPrefix = ".tmp-"

// FileStore is a Store in a local directory: the object at key "a/b/c" is the file
// <root>/a/b/c. Put writes a temporary file beside the target, fsyncs it, renames
// it into place and fsyncs the directory, so an object is either absent or whole,
// also after a crash.
type FileStore struct {
	root string
}

// NewFileStore opens (creating if needed) a file store rooted at the absolute
// directory root.
func NewFileStore(root string) (*FileStore, error) {
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("snapshot: file store root %q is not an absolute path", root)
	}
	root = filepath.Clean(root)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("snapshot: file store: %w", err)
	}
	return &FileStore{root: root}, nil
}

// Root is the directory the store keeps its objects in.
func (s *FileStore) Root() string { return s.root }

func (s *FileStore) String() string { return "file://" + s.root }

func (s *FileStore) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// Put implements Store.
func (s *FileStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("snapshot: put: %w", err)
	}
	if size < 0 {
		return fmt.Errorf("snapshot: put %s: negative size %d", key, size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("snapshot: put %s: %w", key, err)
	}
	dst := s.path(key)
	dir := filepath.Dir(dst)
	// A concurrent Delete may remove a (then empty) directory while MkdirAll
	// creates the levels below it, or between MkdirAll and CreateTemp; the write
	// has not started, so trying again is safe.
	var tmp *os.File
	for attempt := 0; ; attempt++ {
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			var f *os.File
			if f, err = os.CreateTemp(dir, tmpPrefix+"*"); err == nil {
				tmp = f
				break
			}
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt >= 100 {
			return fmt.Errorf("snapshot: put %s: %w", key, err)
		}
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	n, err := io.Copy(tmp, io.LimitReader(ctxReader{ctx, r}, size))
	if err != nil {
		return fmt.Errorf("snapshot: put %s: %w", key, err)
	}
	if n != size {
		return fmt.Errorf("snapshot: put %s: the reader gave %d bytes, want %d", key, n, size)
	}
	if extra, _ := r.Read(make([]byte, 1)); extra > 0 {
		return fmt.Errorf("snapshot: put %s: the reader has more than the %d bytes announced", key, size)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("snapshot: put %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("snapshot: put %s: %w", key, err)
	}
	// The temporary file keeps its directory non-empty, so a concurrent Delete
	// cannot remove the directory under the rename.
	if err := os.Rename(tmpName, dst); err != nil {
		return fmt.Errorf("snapshot: put %s: %w", key, err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("snapshot: put %s: %w", key, err)
	}
	return nil
}

// ctxReader stops a long copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// Get implements Store.
func (s *FileStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("snapshot: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot: get %s: %w", key, err)
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("snapshot: get %s from %s: %w", key, s, ErrNotFound)
		}
		return nil, fmt.Errorf("snapshot: get %s: %w", key, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("snapshot: get %s from %s: not a regular file: %w", key, s, ErrNotFound)
	}
	return f, nil
}

// Stat implements Store.
func (s *FileStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return ObjectInfo{}, fmt.Errorf("snapshot: stat: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, fmt.Errorf("snapshot: stat %s: %w", key, err)
	}
	fi, err := os.Stat(s.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ObjectInfo{}, fmt.Errorf("snapshot: stat %s in %s: %w", key, s, ErrNotFound)
		}
		return ObjectInfo{}, fmt.Errorf("snapshot: stat %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return ObjectInfo{}, fmt.Errorf("snapshot: stat %s in %s: not a regular file: %w", key, s, ErrNotFound)
	}
	return ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil
}

// List implements Store.
func (s *FileStore) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("snapshot: list: %w", err)
	}
	// Walk the deepest directory every matching key lies under.
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = s.path(prefix[:i])
	}
	var out []ObjectInfo
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil // vanished under a concurrent Delete, or no such prefix
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip directories that cannot hold a matching key.
			if p != start && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: fi.Size(), Modified: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot: list %q in %s: %w", prefix, s, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements Store. Directories left empty are removed.
func (s *FileStore) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := checkKey(key); err != nil {
			return fmt.Errorf("snapshot: delete: %w", err)
		}
	}
	dirs := map[string]bool{}
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("snapshot: delete %s: %w", key, err)
		}
		p := s.path(key)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("snapshot: delete %s: %w", key, err)
		}
		dirs[filepath.Dir(p)] = true
	}
	for dir := range dirs {
		s.removeEmptyDirs(dir)
	}
	return nil
}

// removeEmptyDirs removes dir and its parents up to the root while they are empty.
// os.Remove fails on a non-empty directory, so a concurrent Put never loses a file;
// Put recreates a directory removed under it.
func (s *FileStore) removeEmptyDirs(dir string) {
	for dir != s.root && strings.HasPrefix(dir, s.root+string(filepath.Separator)) {
		if err := os.Remove(dir); err != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

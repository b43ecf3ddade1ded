package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// maxManifestSize bounds what Download reads as a manifest (a manifest lists a few
// hundred files at most; this is far above that).
const maxManifestSize = 64 << 20

// Download restores the snapshot whose manifest key is ref into dir: it reads the
// manifest, then fetches every file (DefaultParallelism at once) into dir under
// its name, checking each file's size and SHA-256 against the manifest, and
// fsyncs the files and dir. dir is created if missing and must otherwise be empty.
//
// A missing or malformed manifest, a missing object, or content that does not
// match the manifest gives a *CorruptError naming the file and object; other
// failures (network, disk, ctx) are returned as they are. On any error Download
// removes the files it wrote, but the caller must still treat dir as garbage and
// delete it: never open a directory a failed Download wrote into.
func Download(ctx context.Context, store Store, ref string, dir string) (Manifest, error) {
	return DownloadWatched(ctx, store, ref, dir, nil)
}

// DownloadWatched is Download, calling fetched (when not nil, from several
// goroutines at once) with the size of each piece of file content as it is
// written: progress to log for a large snapshot.
func DownloadWatched(ctx context.Context, store Store, ref string, dir string, fetched func(bytes int64)) (Manifest, error) {
	fail := func(err error) (Manifest, error) {
		var ce *CorruptError
		if errors.As(err, &ce) {
			return Manifest{}, err
		}
		return Manifest{}, fmt.Errorf("snapshot: download of %s into %s: %w", ref, dir, err)
	}
	if err := checkKey(ref); err != nil {
		return fail(err)
	}
	m, err := ReadManifest(ctx, store, ref)
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	if des, err := os.ReadDir(dir); err != nil {
		return fail(err)
	} else if len(des) > 0 {
		return fail(fmt.Errorf("directory %s is not empty (%d entries, such as %s)", dir, len(des), des[0].Name()))
	}

	var (
		mu      sync.Mutex
		created []string
	)
	err = forEach(ctx, len(m.Files), DefaultParallelism, func(ctx context.Context, i int) error {
		f := m.Files[i]
		p := filepath.Join(dir, f.Name)
		out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		mu.Lock()
		created = append(created, p)
		mu.Unlock()
		var w io.Writer = out
		if fetched != nil {
			w = countingWriter{out, fetched}
		}
		err = fetch(ctx, store, ref, f, out, w)
		if cerr := out.Close(); err == nil && cerr != nil {
			err = cerr
		}
		return err
	})
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		for _, p := range created {
			os.Remove(p)
		}
		return fail(err)
	}
	return m, nil
}

// fetch copies the object of f into out, checking its size and SHA-256.
// The content goes to w (out, or a writer that counts on its way to out).
func fetch(ctx context.Context, store Store, ref string, f FileEntry, out *os.File, w io.Writer) error {
	corrupt := func(reason string, err error) error {
		return &CorruptError{Ref: ref, File: f.Name, Key: f.Key, Reason: reason, Err: err}
	}
	r, err := store.Get(ctx, f.Key)
	if errors.Is(err, ErrNotFound) {
		return corrupt("the object is missing", err)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	h := sha256.New()
	// Read one byte more than the manifest's size to notice a longer object.
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, f.Size+1))
	if err != nil {
		return fmt.Errorf("fetching file %s (object %s): %w", f.Name, f.Key, err)
	}
	switch {
	case n > f.Size:
		return corrupt(fmt.Sprintf("the object is longer than the %d bytes the manifest says", f.Size), nil)
	case n < f.Size:
		return corrupt(fmt.Sprintf("the object has %d bytes, the manifest says %d", n, f.Size), nil)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return corrupt(fmt.Sprintf("SHA-256 %s, the manifest says %s", got, f.SHA256), nil)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("writing file %s: %w", f.Name, err)
	}
	return nil
}

// ReadManifest reads and checks the manifest at ref without fetching any file. A
// missing or malformed manifest gives a *CorruptError.
func ReadManifest(ctx context.Context, store Store, ref string) (Manifest, error) {
	r, err := store.Get(ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return Manifest{}, &CorruptError{Ref: ref, File: manifestName, Key: ref, Reason: "the manifest is missing", Err: err}
	}
	if err != nil {
		return Manifest{}, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("reading manifest %s: %w", ref, err)
	}
	if len(data) > maxManifestSize {
		return Manifest{}, &CorruptError{Ref: ref, File: manifestName, Key: ref, Reason: fmt.Sprintf("the manifest is larger than %d bytes", maxManifestSize)}
	}
	return parseManifest(ref, data)
}

// countingWriter tells fetched how much it wrote.
type countingWriter struct {
	w       io.Writer
	fetched func(int64)
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.fetched(int64(n))
	return n, err
}

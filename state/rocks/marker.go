package rocks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// A clean-close marker is a small file a caller leaves in a closed instance's
// directory to say what the instance holds (for the engine: the changelog
// offsets of an exactly-once task closed after a successful commit, as Kafka
// Streams' .checkpoint file does). It lives inside the instance's directory, so
// Remove and Install, which replace the directory, take it with them. The
// content is the caller's; this file only makes writing it and taking it away
// durable:
//
//	WriteMarker: temporary file ─▶ fsync ─▶ rename over the marker ─▶ fsync the directory
//	TakeMarker:  read ─▶ remove ─▶ fsync the directory ─▶ return what was read
//
// TakeMarker returns the content only once the removal is durable, so a caller
// that opens the instance after TakeMarker and then crashes can never find the
// same marker again.

const markerFile = "GOFKA-CLEAN-CLOSE" // RocksDB ignores files it did not write

// WriteMarker durably writes data as the marker of the closed instance name.
// The instance's directory must exist.
func (p *Pool) WriteMarker(name string, data []byte) error {
	if err := checkName("write marker", name); err != nil {
		return err
	}
	wrap := func(err error) error { return fmt.Errorf("rocks: write marker of instance %q: %w", name, err) }
	dir, release, err := p.reserveClosed(name)
	if err != nil {
		return wrap(err)
	}
	defer release()
	if _, err := os.Stat(dir); err != nil {
		return wrap(err)
	}
	tmp := filepath.Join(dir, markerFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return wrap(err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, markerFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return wrap(err)
	}
	return nil
}

// TakeMarker reads and durably removes the marker of the closed instance name.
// It returns nil and no error when there is none.
func (p *Pool) TakeMarker(name string) ([]byte, error) {
	if err := checkName("take marker", name); err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("rocks: take marker of instance %q: %w", name, err) }
	dir, release, err := p.reserveClosed(name)
	if err != nil {
		return nil, wrap(err)
	}
	defer release()
	path := filepath.Join(dir, markerFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err == nil {
		err = os.Remove(path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return nil, wrap(err)
	}
	return data, nil
}

// reserveClosed holds the closed instance name against opens, installs and
// removals, and returns its directory.
func (p *Pool) reserveClosed(name string) (dir string, release func(), err error) {
	_, release, err = p.reserve(name)
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(p.dir, name), release, nil
}

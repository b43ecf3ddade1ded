package rocks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// This file changes instances on disk: Install puts a directory (a downloaded
// checkpoint) in place of a closed instance, Remove deletes one. Both rename before
// they delete, so a crash leaves an instance whole or absent, never half of one.

// Remove deletes the files of a closed instance; removing an instance that does not
// exist does nothing. The directory is first renamed out of the pool's directory
// (one atomic step), so a crash never leaves a half-deleted instance behind.
func (p *Pool) Remove(name string) error {
	if err := checkName("remove instance", name); err != nil {
		return err
	}
	wrap := func(err error) error { return fmt.Errorf("rocks: remove instance %q in %s: %w", name, p.dir, err) }
	trash, release, err := p.reserve(name)
	if err != nil {
		return wrap(err)
	}
	defer release()

	target := filepath.Join(p.dir, name)
	if err := os.Rename(target, trash); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return wrap(err)
	}
	if err := syncDir(p.dir); err != nil {
		return wrap(err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return wrap(err)
	}
	return nil
}

// Install replaces the closed instance name with the directory from (for example a
// downloaded checkpoint), so that the next Open opens that state. from must be on the
// same file system as the pool's directory, since it is renamed, not copied: build it
// under StagingDir. Install fsyncs from's files first. An existing instance is first
// renamed away, then from is renamed into place: a crash in between leaves no
// instance of that name (an empty state, which the caller restores again), never a
// mix of the two.
func (p *Pool) Install(name, from string) error {
	if err := checkName("install instance", name); err != nil {
		return err
	}
	wrap := func(err error) error {
		return fmt.Errorf("rocks: install %s as instance %q in %s: %w", from, name, p.dir, err)
	}
	st, err := os.Stat(from)
	if err != nil {
		return wrap(err)
	}
	if !st.IsDir() {
		return wrap(errors.New("not a directory"))
	}
	trash, release, err := p.reserve(name)
	if err != nil {
		return wrap(err)
	}
	defer release()

	if err := syncTree(from); err != nil {
		return wrap(err)
	}
	target := filepath.Join(p.dir, name)
	old := true
	if err := os.Rename(target, trash); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return wrap(fmt.Errorf("move the old instance away: %w", err))
		}
		old = false
	}
	if err := os.Rename(from, target); err != nil {
		if errors.Is(err, syscall.EXDEV) {
			err = fmt.Errorf("%w: the directory must be on the pool's file system (stage it under %s)", err, p.StagingDir())
		}
		if old { // put the old instance back
			if rerr := os.Rename(trash, target); rerr != nil {
				err = errors.Join(err, fmt.Errorf("restore the old instance from %s: %w", trash, rerr))
			}
		}
		return wrap(err)
	}
	if err := syncDir(p.dir); err != nil {
		return wrap(err)
	}
	if old {
		if err := os.RemoveAll(trash); err != nil {
			return wrap(fmt.Errorf("delete the old instance: %w", err))
		}
	}
	return nil
}

// trashLocked returns a new name in the staging directory for a directory about to
// be deleted.
func (p *Pool) trashLocked(name string) string {
	p.trash++
	return filepath.Join(p.StagingDir(), ".removed-"+name+"-"+strconv.Itoa(p.trash))
}

// syncTree fsyncs every regular file directly in dir, then dir itself.
func syncTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("fsync %s: %w", e.Name(), err)
		}
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// reserve holds name against opens and other installs or removals while its
// directory is swapped, and names the trash directory the old one moves to.
func (p *Pool) reserve(name string) (trash string, release func(), err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.acquireLocked(name); err != nil {
		return "", nil, err
	}
	return p.trashLocked(name), func() {
		p.mu.Lock()
		p.releaseLocked(name)
		p.mu.Unlock()
	}, nil
}

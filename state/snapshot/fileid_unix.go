//go:build unix

package snapshot

import (
	"io/fs"
	"syscall"
)

// fileIdentity identifies a file's content without reading it, for the SST hash
// cache: SST files are immutable, and a checkpoint hard-links them, so the same
// inode (with the same size and modification time) holds the same bytes in every
// checkpoint directory. The change time is left out: linking a file changes it.
type fileIdentity struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

func identify(fi fs.FileInfo) (fileIdentity, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileIdentity{}, false
	}
	return fileIdentity{dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(), mtime: fi.ModTime().UnixNano()}, true
}

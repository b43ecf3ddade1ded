//go:build !unix

package snapshot

import "io/fs"

// fileIdentity is empty where inodes are not available: every file is hashed.
type fileIdentity struct{}

func identify(fs.FileInfo) (fileIdentity, bool) { return fileIdentity{}, false }

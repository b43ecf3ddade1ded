package snapshot

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ManifestFormat is the manifest format this package writes and reads.
const ManifestFormat = 1

// manifestName is the manifest's name in a checkpoint's key prefix.
const manifestName = "manifest.json"

// Manifest describes one complete snapshot: the files of a task's RocksDB
// checkpoint and where each is stored, and the offsets the state covers. It is
// stored last, as JSON, so its presence makes a snapshot complete.
type Manifest struct {
	Format     int         `json:"format"`
	App        string      `json:"app"`
	Task       string      `json:"task"`
	Checkpoint uint64      `json:"checkpoint"`
	Created    time.Time   `json:"created"`
	Files      []FileEntry `json:"files"`
	// ChangelogOffsets maps "topic/partition" to the next changelog offset the
	// state does not contain: replay starts there.
	ChangelogOffsets map[string]int64 `json:"changelog_offsets"`
	// SourceOffsets maps "topic/partition" to the next input offset to process.
	SourceOffsets map[string]int64 `json:"source_offsets"`
}

// FileEntry is one file of a snapshot.
type FileEntry struct {
	Name   string `json:"name"`   // the file's name in the checkpoint directory
	Size   int64  `json:"size"`   // bytes
	SHA256 string `json:"sha256"` // lower-case hex SHA-256 of the content
	Key    string `json:"key"`    // the object holding the content
}

// Object key layout under an app:
//
//	<app>/sst/<sha256>.sst                     SST files, content-addressed, shared by checkpoints
//	<app>/tasks/<task>/<n>/<name>              every other file of checkpoint n of a task
//	<app>/tasks/<task>/<n>/manifest.json       the manifest, written last

// SSTKey is the content-addressed key of an SST file.
func SSTKey(app, sha256hex string) string { return app + "/sst/" + sha256hex + ".sst" }

// CheckpointPrefix is the key prefix of checkpoint n of a task (ends in "/").
func CheckpointPrefix(app, task string, n uint64) string {
	return app + "/tasks/" + task + "/" + strconv.FormatUint(n, 10) + "/"
}

// ManifestKey is the key of the manifest of checkpoint n of a task; it is the
// reference Upload returns and Download takes.
func ManifestKey(app, task string, n uint64) string {
	return CheckpointPrefix(app, task, n) + manifestName
}

// checkpointKey splits a key under <app>/tasks/ into its task, checkpoint and
// file name; ok is false for a key that does not have that shape.
func checkpointKey(app, key string) (task string, n uint64, name string, ok bool) {
	rest, found := strings.CutPrefix(key, app+"/tasks/")
	if !found {
		return "", 0, "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", 0, "", false
	}
	n, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != parts[1] {
		return "", 0, "", false
	}
	return parts[0], n, parts[2], true
}

// checkName reports why s is not usable as an app or task name (one key
// component), or nil.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("empty %s name", what)
	}
	if strings.Contains(s, "/") {
		return fmt.Errorf("%s name %q contains a slash", what, s)
	}
	if err := checkKey(s); err != nil {
		return fmt.Errorf("%s name %q: %w", what, s, err)
	}
	return nil
}

// checkFileName reports why name is not a plain file name of a checkpoint
// directory. Manifests come from storage, so a name must not be able to point
// outside the directory it is restored into.
func checkFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return fmt.Errorf("file name %q is not a plain file name", name)
	}
	return nil
}

func isSST(name string) bool { return strings.HasSuffix(name, ".sst") }

// CorruptError reports a snapshot that cannot be restored as stored: a missing
// or unreadable manifest, a missing object, or a file whose size or SHA-256 is
// not what the manifest says.
type CorruptError struct {
	Ref    string // the manifest's key
	File   string // the file's name in the checkpoint ("manifest.json" for the manifest itself)
	Key    string // the object's key
	Reason string
	Err    error // the underlying error, if any (ErrNotFound for a missing object)
}

func (e *CorruptError) Error() string {
	msg := fmt.Sprintf("snapshot %s is corrupt: file %s", e.Ref, e.File)
	if e.Key != "" && e.Key != e.Ref {
		msg += " (object " + e.Key + ")"
	}
	msg += ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *CorruptError) Unwrap() error { return e.Err }

// parseManifest decodes and checks a manifest read from ref.
func parseManifest(ref string, data []byte) (Manifest, error) {
	bad := func(reason string, err error) (Manifest, error) {
		return Manifest{}, &CorruptError{Ref: ref, File: manifestName, Key: ref, Reason: reason, Err: err}
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return bad("not a valid manifest", err)
	}
	if m.Format != ManifestFormat {
		return bad(fmt.Sprintf("manifest format %d, this build reads format %d", m.Format, ManifestFormat), nil)
	}
	if err := checkName("app", m.App); err != nil {
		return bad("bad manifest", err)
	}
	if err := checkName("task", m.Task); err != nil {
		return bad("bad manifest", err)
	}
	if want := ManifestKey(m.App, m.Task, m.Checkpoint); want != ref {
		return bad(fmt.Sprintf("the manifest says it is app %q task %q checkpoint %d, whose manifest key is %s", m.App, m.Task, m.Checkpoint, want), nil)
	}
	seen := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		if err := checkFileName(f.Name); err != nil {
			return bad("bad file entry", err)
		}
		if seen[f.Name] {
			return bad(fmt.Sprintf("file %q is listed twice", f.Name), nil)
		}
		seen[f.Name] = true
		if f.Size < 0 {
			return bad(fmt.Sprintf("file %q has negative size %d", f.Name, f.Size), nil)
		}
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 || strings.ToLower(f.SHA256) != f.SHA256 {
			return bad(fmt.Sprintf("file %q has SHA-256 %q, not 64 lower-case hex digits", f.Name, f.SHA256), nil)
		}
		if err := checkKey(f.Key); err != nil {
			return bad(fmt.Sprintf("file %q", f.Name), err)
		}
		if !strings.HasPrefix(f.Key, m.App+"/") {
			return bad(fmt.Sprintf("file %q is stored at %s, outside app %q", f.Name, f.Key, m.App), nil)
		}
	}
	if seen[manifestName] {
		return bad("a file is named like the manifest", errors.New(manifestName))
	}
	return m, nil
}

package snapshot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileStore(t *testing.T) {
	runSuite(t, func(t *testing.T) Store {
		s, err := Open(context.Background(), "file://"+t.TempDir()+"/store", Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestFileStoreLayout checks the files a file store leaves: objects where their
// keys say, no temporary files, no empty directories after deletes.
func TestFileStoreLayout(t *testing.T) {
	root := t.TempDir()
	s, err := NewFileStore(root)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "app/tasks/0_1/7/CURRENT", []byte("x"))
	put(t, s, "app/sst/aa.sst", []byte("y"))
	if b, err := os.ReadFile(filepath.Join(root, "app", "tasks", "0_1", "7", "CURRENT")); err != nil || string(b) != "x" {
		t.Errorf("object file: %q, %v", b, err)
	}
	// A temporary file from a crashed Put is not listed.
	os.WriteFile(filepath.Join(root, "app", "sst", tmpPrefix+"123"), []byte("partial"), 0o644)
	if got := listKeys(t, s, ""); len(got) != 2 {
		t.Errorf("list = %q, want the two objects only", got)
	}
	if err := s.Delete(context.Background(), "app/tasks/0_1/7/CURRENT"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "app", "tasks")); !os.IsNotExist(err) {
		t.Errorf("empty directories left after delete: %v", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("the root itself was removed: %v", err)
	}
}

func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, "file://"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fs, ok := s.(*FileStore); !ok || fs.Root() != dir {
		t.Errorf("Open(file://%s) = %#v", dir, s)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s, err = Open(ctx, "s3://bucket/some/prefix/", Options{Endpoint: "http://127.0.0.1:1", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if s3s, ok := s.(*S3Store); !ok || s3s.bucket != "bucket" || s3s.prefix != "some/prefix/" {
		t.Errorf("Open(s3://bucket/some/prefix/) = %#v", s)
	}
	for url, want := range map[string]string{
		"/abs/path":            "no scheme",
		"file://relative/path": "local absolute path",
		"file:relative":        "absolute",
		"s3:///prefix":         "no bucket",
		"s3://b/x/../y":        "..",
		"gs://bucket":          "unsupported scheme",
		"file:///x?y=1":        "query",
	} {
		if _, err := Open(ctx, url, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", url, err, want)
		}
	}
}

// TestFileStoreConcurrentPutDelete: Deletes that remove emptied directories never
// make a concurrent Put into the same directory fail.
func TestFileStoreConcurrentPutDelete(t *testing.T) {
	s, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	const n = 300
	errs := make(chan error, 2)
	go func() {
		for i := range n {
			if err := s.Put(ctx, fmt.Sprintf("d/e/k%d", i), strings.NewReader("v"), 1); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	go func() {
		for i := range n {
			if err := s.Delete(ctx, fmt.Sprintf("d/e/k%d", i), fmt.Sprintf("d/e/k%d", i-1)); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

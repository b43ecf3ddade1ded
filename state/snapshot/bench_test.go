package snapshot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gofka/streams/internal/miniotest"
)

// Benchmarks of one task's checkpoint of 8 SSTs of 8 MiB (64 MiB) plus metadata:
//
//	go test -run XXX -bench . -benchtime 5x ./state/snapshot/
//
// full: a new Uploader and an empty store each time (everything hashed and put);
// unchanged: the next checkpoint of the same files (nothing read, metadata put);
// download: a verified restore.

func benchCheckpoint(b *testing.B) (string, int64) {
	dir := filepath.Join(b.TempDir(), "ckpt")
	os.Mkdir(dir, 0o755)
	var total int64
	files := metadata(1)
	for i := range 8 {
		files[fmt.Sprintf("%06d.sst", i+10)] = randBytes(uint64(i), 8<<20)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	return dir, total
}

func benchStores(b *testing.B, run func(b *testing.B, open func(name string) Store)) {
	b.Run("file", func(b *testing.B) {
		root := b.TempDir()
		run(b, func(name string) Store {
			s, err := NewFileStore(filepath.Join(root, name))
			if err != nil {
				b.Fatal(err)
			}
			return s
		})
	})
	b.Run("minio", func(b *testing.B) {
		srv := miniotest.Start(b)
		b.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
		b.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
		b.Setenv("AWS_REGION", srv.Region)
		b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		run(b, func(name string) Store {
			s, err := Open(context.Background(), "s3://"+srv.Bucket+"/"+name, Options{Endpoint: srv.Endpoint, PathStyle: true})
			if err != nil {
				b.Fatal(err)
			}
			return s
		})
	})
}

func BenchmarkUpload(b *testing.B) {
	ctx := context.Background()
	benchStores(b, func(b *testing.B, open func(string) Store) {
		dir, total := benchCheckpoint(b)
		b.Run("full", func(b *testing.B) {
			b.SetBytes(total)
			for i := 0; i < b.N; i++ {
				u := NewUploader(open(fmt.Sprintf("full-%d-%d", b.N, i)), "app", nil)
				if _, _, _, err := u.Upload(ctx, "0_0", 1, dir, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("unchanged", func(b *testing.B) {
			u := NewUploader(open(fmt.Sprintf("unchanged-%d", b.N)), "app", nil)
			if _, _, _, err := u.Upload(ctx, "0_0", 1, dir, nil, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, _, st, err := u.Upload(ctx, "0_0", uint64(i+2), dir, nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				if st.HashedFiles != 3 || st.NewFiles != 3 {
					b.Fatalf("unchanged checkpoint hashed %d and put %d files, want the 3 metadata files", st.HashedFiles, st.NewFiles)
				}
			}
		})
		b.Run("download", func(b *testing.B) {
			s := open(fmt.Sprintf("download-%d", b.N))
			_, ref, _, err := NewUploader(s, "app", nil).Upload(ctx, "0_0", 1, dir, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(total)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Download(ctx, s, ref, filepath.Join(b.TempDir(), "restore")); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

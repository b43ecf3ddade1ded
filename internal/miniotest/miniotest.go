// Package miniotest starts a real MinIO server (an S3-compatible object store) for
// tests, on 127.0.0.1, with its data in the test's temporary directory.
//
// The binary is the one scripts/minio.sh installs (the exact MinIO version
// DESIGN.md pins, built with go install into a cache directory, about four minutes
// the first time), or the one $GOFKA_MINIO names. Start runs
//
//	minio server <tempdir> --address 127.0.0.1:<port> --console-address 127.0.0.1:<port>
//
// in its own process group with fixed root credentials, waits until
// /minio/health/live answers, creates a bucket, and registers a cleanup that kills
// the process group. If the binary cannot be installed or the server does not come
// up, the test fails with the reason (it is never skipped) and the server's output.
package miniotest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gofka/streams/internal/testkit"
)

// Server is a running MinIO server.
type Server struct {
	Endpoint  string // base URL, such as http://127.0.0.1:40123
	Bucket    string // a bucket Start created, empty
	AccessKey string // root user
	SecretKey string // root password
	Region    string // the region to sign requests for
}

// Fixed credentials: the server is private to one test and listens on 127.0.0.1.
const (
	accessKey = "gofkatest"
	secretKey = "gofkatest-secret-key"
	bucket    = "gofka-test"
	region    = "us-east-1"
)

// Hang guards, not expectations: a cold install builds MinIO from source on two
// shared cores.
const (
	installTimeout = 20 * time.Minute
	readyTimeout   = 2 * time.Minute
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the path of the MinIO binary: $GOFKA_MINIO if set, else what
// scripts/minio.sh prints (installing it if needed). The install runs once per
// test process.
func Binary() (string, error) {
	binOnce.Do(func() { binPath, binErr = findBinary() })
	return binPath, binErr
}

func findBinary() (string, error) {
	if p := os.Getenv("GOFKA_MINIO"); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("GOFKA_MINIO=%s is not an executable file", p)
		}
		return p, nil
	}
	script, err := findScript()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("installing MinIO with %s failed (it needs the Go module proxy; or set GOFKA_MINIO to a minio binary): %v\n%s", script, err, tail(stderr.String(), 4000))
	}
	p := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(p, '\n'); i >= 0 {
		p = p[i+1:]
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s printed %q, which is not a file: %v", script, p, err)
	}
	return p, nil
}

// findScript locates scripts/minio.sh from this source file, or from the working
// directory upwards (for builds with -trimpath).
func findScript() (string, error) {
	var dirs []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dirs = append(dirs, filepath.Join(filepath.Dir(file), "..", ".."))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "scripts", "minio.sh")
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), nil
		}
	}
	return "", errors.New("scripts/minio.sh not found from the miniotest source or the working directory; set GOFKA_MINIO to a minio binary")
}

// Start starts a MinIO server for t and returns it once it serves requests and
// its bucket exists. The server stops when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	// Temporary directories are registered before the kill below, so removed after it.
	dataDir, certsDir := t.TempDir(), t.TempDir()

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, out, err := start(t, bin, dataDir, certsDir)
		if err == nil {
			return s
		}
		lastErr = fmt.Errorf("%w\n--- minio output ---\n%s", err, tail(out.String(), 8000))
		// A port another process took between choosing and binding it is the one
		// failure worth another try.
		if !strings.Contains(out.String(), "address already in use") {
			break
		}
	}
	t.Fatalf("miniotest: %v", lastErr)
	return nil
}

func start(t testing.TB, bin, dataDir, certsDir string) (*Server, *testkit.LogBuf, error) {
	out := &testkit.LogBuf{}
	addr, err := testkit.FreeAddr()
	if err != nil {
		return nil, out, err
	}
	console, err := testkit.FreeAddr()
	if err != nil {
		return nil, out, err
	}
	cmd := exec.Command(bin, "server", dataDir, "--address", addr, "--console-address", console, "--certs-dir", certsDir)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+accessKey,
		"MINIO_ROOT_PASSWORD="+secretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
	)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, out, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}

	s := &Server{Endpoint: "http://" + addr, Bucket: bucket, AccessKey: accessKey, SecretKey: secretKey, Region: region}
	if err := waitReady(s.Endpoint, exited, &waitErr); err != nil {
		stop()
		return nil, out, err
	}
	if err := createBucket(s, exited); err != nil {
		stop()
		return nil, out, err
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("miniotest: output of minio at %s:\n%s", s.Endpoint, tail(out.String(), 8000))
		}
	})
	return s, out, nil
}

func waitReady(endpoint string, exited <-chan struct{}, waitErr *error) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("minio exited before it was ready: %v", *waitErr)
		default:
		}
		resp, err := client.Get(endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("minio at %s not live after %v: %v", endpoint, readyTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createBucket creates the bucket, retrying while the server finishes starting
// (live can answer before the object layer is ready).
func createBucket(s *Server, exited <-chan struct{}) error {
	client := s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("minio exited while creating bucket %s: %v", s.Bucket, err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("creating bucket %s on %s: %w", s.Bucket, s.Endpoint, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

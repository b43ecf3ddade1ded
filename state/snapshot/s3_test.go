package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gofka/streams/internal/miniotest"
)

// isolateAWSEnv makes the AWS SDK's standard chain see only what the test sets:
// no shared config or credentials files of the developer, no profile, no
// instance metadata lookups.
func isolateAWSEnv(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                        filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE":            filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":              "true",
		"AWS_PROFILE":                            "",
		"AWS_DEFAULT_PROFILE":                    "",
		"AWS_ACCESS_KEY_ID":                      "",
		"AWS_SECRET_ACCESS_KEY":                  "",
		"AWS_SESSION_TOKEN":                      "",
		"AWS_REGION":                             "",
		"AWS_DEFAULT_REGION":                     "",
		"AWS_ENDPOINT_URL":                       "",
		"AWS_ENDPOINT_URL_S3":                    "",
		"AWS_ROLE_ARN":                           "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
	} {
		t.Setenv(k, v)
	}
}

// setMinioEnv gives the standard chain the server's credentials, as an operator
// would with environment variables.
func setMinioEnv(t *testing.T, srv *miniotest.Server) {
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", srv.Region)
}

var unsafeKeyChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func minioOptions(srv *miniotest.Server) Options {
	return Options{Endpoint: srv.Endpoint, PathStyle: true}
}

// TestS3Store runs the store suite against a real MinIO server, each subtest in
// its own prefix of one bucket.
func TestS3Store(t *testing.T) {
	srv := miniotest.Start(t)
	setMinioEnv(t, srv)
	runSuite(t, func(t *testing.T) Store {
		prefix := strings.ToLower(unsafeKeyChars.ReplaceAllString(t.Name(), "-"))
		s, err := Open(context.Background(), "s3://"+srv.Bucket+"/"+prefix, minioOptions(srv))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestS3Credentials shows that the S3 store takes its credentials and region from
// the AWS SDK's standard chain: environment variables, then the shared credentials
// file with a profile; wrong or absent credentials fail with the server's or the
// SDK's reason.
func TestS3Credentials(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := testContext(t)
	try := func(t *testing.T) error {
		t.Helper()
		s, err := Open(ctx, "s3://"+srv.Bucket+"/creds", minioOptions(srv))
		if err != nil {
			return err
		}
		if err := s.Put(ctx, "k", strings.NewReader("v"), 1); err != nil {
			return err
		}
		_, err = s.Stat(ctx, "k")
		return err
	}

	t.Run("environment", func(t *testing.T) {
		setMinioEnv(t, srv)
		if err := try(t); err != nil {
			t.Fatalf("with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION set: %v", err)
		}
	})
	t.Run("environment, wrong secret", func(t *testing.T) {
		setMinioEnv(t, srv)
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
		err := try(t)
		if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
			t.Fatalf("with a wrong secret in the environment: %v, want SignatureDoesNotMatch", err)
		}
		t.Logf("as expected: %v", err)
	})
	t.Run("environment, unknown key id", func(t *testing.T) {
		setMinioEnv(t, srv)
		t.Setenv("AWS_ACCESS_KEY_ID", "nobody")
		err := try(t)
		if err == nil || !strings.Contains(err.Error(), "InvalidAccessKeyId") {
			t.Fatalf("with an unknown key id in the environment: %v, want InvalidAccessKeyId", err)
		}
	})
	t.Run("shared credentials file and profile", func(t *testing.T) {
		isolateAWSEnv(t)
		dir := t.TempDir()
		creds := filepath.Join(dir, "credentials")
		config := filepath.Join(dir, "config")
		os.WriteFile(creds, []byte("[gofka]\naws_access_key_id = "+srv.AccessKey+"\naws_secret_access_key = "+srv.SecretKey+"\n"), 0o600)
		os.WriteFile(config, []byte("[profile gofka]\nregion = "+srv.Region+"\n"), 0o600)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
		t.Setenv("AWS_CONFIG_FILE", config)
		t.Setenv("AWS_PROFILE", "gofka")
		if err := try(t); err != nil {
			t.Fatalf("with profile gofka in a shared credentials file: %v", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		isolateAWSEnv(t)
		err := try(t)
		if err == nil {
			t.Fatal("a put with no credentials anywhere succeeded")
		}
		t.Logf("as expected: %v", err)
	})
}

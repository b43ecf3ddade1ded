package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// maxPutSize is S3's limit for a single PUT. SST files are far smaller (RocksDB's
// target file size is 64 MiB by default), so the store does not do multipart uploads.
const maxPutSize = 5 << 30

// S3Store is a Store in an S3 bucket (AWS or any S3-compatible server), with every
// key under an optional prefix.
type S3Store struct {
	client *s3.Client
	bucket string
	prefix string // "" or "some/prefix/" (with the trailing slash)
}

// NewS3Store opens the bucket with credentials and region from the AWS SDK's
// standard configuration chain (config.LoadDefaultConfig), adjusted by opts. It
// does not contact the server; the first request reports a missing bucket or bad
// credentials.
func NewS3Store(ctx context.Context, bucket, prefix string, opts Options) (*S3Store, error) {
	if bucket == "" {
		return nil, errors.New("snapshot: s3 store: empty bucket name")
	}
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("snapshot: s3 store s3://%s: loading AWS configuration: %w", bucket, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		if opts.PathStyle {
			o.UsePathStyle = true
		}
	})
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3Store{client: client, bucket: bucket, prefix: prefix}, nil
}

func (s *S3Store) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// Put implements Store. A reader that cannot seek is first copied to a temporary
// file: the SDK signs (and checksums) the body before sending it, which needs a
// second pass over it on plain-HTTP endpoints.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("snapshot: put: %w", err)
	}
	if size < 0 || size > maxPutSize {
		return fmt.Errorf("snapshot: put %s to %s: size %d outside [0, %d]", key, s, size, int64(maxPutSize))
	}
	body, ok := r.(io.ReadSeeker)
	if !ok {
		tmp, err := os.CreateTemp("", "gofka-s3put-*")
		if err != nil {
			return fmt.Errorf("snapshot: put %s: spooling the body: %w", key, err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		n, err := io.Copy(tmp, io.LimitReader(r, size+1))
		if err != nil {
			return fmt.Errorf("snapshot: put %s: spooling the body: %w", key, err)
		}
		if n > size {
			return fmt.Errorf("snapshot: put %s: the reader has more than the %d bytes announced", key, size)
		}
		if n < size {
			return fmt.Errorf("snapshot: put %s: the reader gave %d bytes, want %d", key, n, size)
		}
		body = io.NewSectionReader(tmp, 0, size)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.prefix + key),
		Body:          body,
		ContentLength: aws.Int64(size),
	})
	if err != nil {
		return fmt.Errorf("snapshot: put %s to %s: %w", key, s, err)
	}
	return nil
}

// Get implements Store.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("snapshot: get: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("snapshot: get %s from %s: %w", key, s, ErrNotFound)
		}
		return nil, fmt.Errorf("snapshot: get %s from %s: %w", key, s, err)
	}
	return out.Body, nil
}

// Stat implements Store.
func (s *S3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return ObjectInfo{}, fmt.Errorf("snapshot: stat: %w", err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil {
		if isNotFound(err) {
			return ObjectInfo{}, fmt.Errorf("snapshot: stat %s in %s: %w", key, s, ErrNotFound)
		}
		return ObjectInfo{}, fmt.Errorf("snapshot: stat %s in %s: %w", key, s, err)
	}
	info := ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength)}
	if out.LastModified != nil {
		info.Modified = *out.LastModified
	}
	return info, nil
}

// List implements Store.
func (s *S3Store) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("snapshot: list: %w", err)
	}
	var out []ObjectInfo
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix + prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("snapshot: list %q in %s: %w", prefix, s, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || strings.HasSuffix(key, "/") {
				continue // not ours, or a "directory" marker another tool made
			}
			info := ObjectInfo{Key: key, Size: aws.ToInt64(o.Size)}
			if o.LastModified != nil {
				info.Modified = *o.LastModified
			}
			out = append(out, info)
		}
	}
	return out, nil // S3 lists in UTF-8 binary key order already
}

// Delete implements Store, in batches of 1000 keys (S3's limit per request).
func (s *S3Store) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := checkKey(key); err != nil {
			return fmt.Errorf("snapshot: delete: %w", err)
		}
	}
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 1000)]
		keys = keys[len(batch):]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, key := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(s.prefix + key)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("snapshot: delete %d objects from %s: %w", len(batch), s, err)
		}
		for _, e := range out.Errors {
			if aws.ToString(e.Code) == "NoSuchKey" {
				continue
			}
			return fmt.Errorf("snapshot: delete %s from %s: %s: %s", aws.ToString(e.Key), s, aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// isNotFound reports whether err is S3's answer for a missing object.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var api interface{ ErrorCode() string } // smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		}
	}
	return false
}
